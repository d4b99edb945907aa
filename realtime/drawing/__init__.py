"""Qt-free drawing on BGR frames: the effect catalog and its art, the skeleton, effect poses on
the body (posing.py), their pixels (compositing.py) and the one renderer (renderer.py).

Shared by the window (realtime.ui), the streamer outputs, `--screenshot` and `poserec bench`.
"""
