"""The PyQt5 live window: video with skeleton and effect preview, the top-k panel, a HUD.

`run_window(pipeline, args)` is what `poserec live` calls without `--headless`.
"""
from .app import run_window

__all__ = ["run_window"]
