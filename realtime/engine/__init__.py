"""The stream engine: worker threads (capture, pose, inference), the channels between them, the
ring buffer of the pose window, the source watchdog, score smoothing, sinks and the pipeline
that wires them together."""
