"""PoseRec Live's real-time side: sources, MediaPipe edge, ring buffer, workers, UI and CLI."""
