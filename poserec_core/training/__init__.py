"""Training and evaluation of PoseRec on one's own data: item side, loss, dataset, trainer.

No threads, Qt, MediaPipe or OpenCV here; the sentence encoder is imported only when used.
"""
