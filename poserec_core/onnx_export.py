"""ONNX: export the encoder and catalog scoring as one graph (windows in, scores out), run it.

The exported graph takes pose windows (N, T, 33, 4) float32 with a dynamic N and returns the
(N, n_items) scores of `Recommender.score`; `Recommender.rank_scores` turns them into top-k.
It is traced from the eager `PoseEncoder` (the module the checkpoint loads into).
"""
from __future__ import annotations

import copy
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .catalog import Catalog
from .encoder import PoseEncoder, windows_to_input
from .errors import PoseRecError
from .pose_files import validate_poses
from .scoring import score_items
from .skeleton import NUM_CHANNELS, NUM_LANDMARKS

ONNX_OPSET = 17
INPUT_NAME = "windows"
OUTPUT_NAME = "scores"


class ScoringGraph(nn.Module):
    """The eager encoder and the folded catalog as one module: (N, T, 33, 4) -> (N, n_items)."""

    def __init__(self, encoder: PoseEncoder, catalog: Catalog):
        super().__init__()
        self.encoder = copy.deepcopy(encoder).cpu().eval()
        self.register_buffer("folded_items", torch.from_numpy(catalog.folded()))
        self.num_prototypes = catalog.num_prototypes

    def forward(self, windows: torch.Tensor) -> torch.Tensor:
        """Scores of every item for each window."""
        embeddings = self.encoder(windows_to_input(windows))
        return score_items(embeddings, self.folded_items, self.num_prototypes)


def export_onnx(encoder: PoseEncoder, catalog: Catalog, path: Path, window_frames: int,
                opset: int = ONNX_OPSET) -> Path:
    """Write the scoring graph to `path` (T fixed at `window_frames`, batch size dynamic)."""
    path = Path(path)
    if not path.parent.is_dir():
        raise PoseRecError(f"{path.parent}: no such directory for the ONNX file")
    graph = ScoringGraph(encoder, catalog).eval()
    example = torch.zeros(2, window_frames, NUM_LANDMARKS, NUM_CHANNELS)
    tmp = path.with_name(f".{path.name}.tmp")
    with warnings.catch_warnings():  # the TorchScript exporter warns that it is deprecated
        warnings.simplefilter("ignore")
        torch.onnx.export(graph, (example,), str(tmp), dynamo=False, opset_version=opset,
                          input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                          dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}})
    tmp.replace(path)
    return path


class OnnxScorer:
    """Scores pose windows with an exported graph on onnxruntime's CPU provider."""

    def __init__(self, path: Path, threads: int = 0):
        self.path = Path(path)
        self.threads = threads
        self._session = None

    def load(self) -> "OnnxScorer":
        """Open the ONNX file (onnxruntime is imported here, not at module import)."""
        import onnxruntime

        if not self.path.is_file():
            raise PoseRecError(f"{self.path}: no such ONNX file; run `poserec export --format onnx`")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = self.threads
        try:
            self._session = onnxruntime.InferenceSession(
                str(self.path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own untyped errors for bad files
            raise PoseRecError(f"{self.path}: onnxruntime cannot load it ({exc})") from None
        return self

    @property
    def window_frames(self) -> int:
        """T the graph was exported for."""
        return int(self._session.get_inputs()[0].shape[1])

    def score(self, windows: np.ndarray) -> np.ndarray:
        """Scores (N, n_items) float32 for windows (N, T, 33, 4)."""
        windows = validate_poses(np.asarray(windows), 4, "windows")
        if windows.shape[1] != self.window_frames:
            raise PoseRecError(f"windows of {windows.shape[1]} frames; {self.path} was exported "
                               f"for {self.window_frames}")
        return self._session.run([OUTPUT_NAME], {INPUT_NAME: windows})[0]

