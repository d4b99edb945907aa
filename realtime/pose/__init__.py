"""The MediaPipe edge: BlazePose backends (legacy solution, Tasks), their factory, and video
extraction. Each backend turns a BGR frame into landmarks (33, 4) x, y, z, visibility."""
