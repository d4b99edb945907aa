"""`poserec bench`: latency measurement, reusable by the encoder and pipeline benchmarks.

stats: timing loops and percentiles; hardware: what the figures were measured on;
table: plain-text tables; output: the atomic `--json` writer and output-path checks;
plot: the `--plot` latency distributions; catalogs: synthetic catalogs beyond the real one;
encoder: `poserec bench --encoder` (encode+rank, eager against fast, and rank alone);
pipeline: `poserec bench` (the streaming pipeline per stage and per window);
mediapipe_alone: MediaPipe alone on the same frames, the pipeline's baseline;
camera: a video file played as a camera (`poserec bench --as-camera`);
profile_encoder: `python -m realtime.bench.profile_encoder`, where the fast encoder's time goes.
"""
