"""PoseRec: pose-driven object-effect recommendation (arXiv 2209.08353), exact and safe.

No threads, Qt, MediaPipe or OpenCV here: those live in `realtime`.
"""
from .catalog import Catalog
from .errors import PoseFileError, PoseRecError, UnsafePickleError, WeightsError
from .recommender import Ranking, Recommender

__all__ = ["Catalog", "PoseFileError", "PoseRecError", "Ranking", "Recommender",
           "UnsafePickleError", "WeightsError"]
