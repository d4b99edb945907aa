"""Qt-free drawing on BGR frames: the skeleton, effect anchors and previews, the effect catalog.

Shared by the window (realtime.ui), the pose-only sources' canvas and the streamer outputs.
"""
