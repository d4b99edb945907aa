"""The PyQt5 live window: video with skeleton and effect preview, the top-k panel, a HUD.

`app.run_window(pipeline, AppConfig(...))` is what `poserec live` calls when it has a display;
`display.display_problem()` (Qt-free) says when it has none.
"""
