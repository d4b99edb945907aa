"""The gRPC form of a session: service `poserec.PoseRec`, bidirectional method `Stream`.

Each message is a protobuf `BytesValue` whose value is one message of
realtime/engine/stream_protocol.py, so no generated code is needed. Ray Serve's gRPC proxy takes
`add_PoseRecServicer_to_server` (by import path) and routes the method to the deployment's
`Stream`.
"""
from __future__ import annotations

import grpc
from google.protobuf.wrappers_pb2 import BytesValue

SERVICE = "poserec.PoseRec"
METHOD = "Stream"
SERVICER_FUNCTION = f"{__name__}.add_PoseRecServicer_to_server"


def add_PoseRecServicer_to_server(servicer, server) -> None:  # noqa: N802 (gRPC's naming)
    """Register the service's one method, as generated gRPC code does."""
    handler = grpc.stream_stream_rpc_method_handler(
        servicer.Stream, request_deserializer=BytesValue.FromString,
        response_serializer=BytesValue.SerializeToString)
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler(SERVICE, {METHOD: handler}),))
