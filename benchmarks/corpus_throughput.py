"""Corpus throughput of `poserec batch`: videos per minute with 1, 2, ... pose actors.

Makes a corpus of short videos of a real person (the test media: scikit-image's astronaut under
a moving crop), then runs the Ray Data job once per actor count into a fresh output folder,
each on its own local Ray. `seconds` is the pipeline's time (actor start-up included, Ray's own
start-up not); `videos/min` is videos over that time.

    python benchmarks/corpus_throughput.py --videos 12 --frames 90 --actors 1 2
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MAX_VIDEOS = 200


def main(argv: list[str] | None = None) -> int:
    """Build the corpus, run the job per actor count, print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=12)
    parser.add_argument("--frames", type=int, default=90, help="frames per video (30 FPS)")
    parser.add_argument("--actors", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)
    if not 1 <= args.videos <= MAX_VIDEOS or args.frames < 10 or min(args.actors) < 1:
        parser.error(f"--videos 1..{MAX_VIDEOS}, --frames >= 10, --actors >= 1")
    sys.path.insert(0, str(REPO))
    from poserec_ray.batch_job import BatchConfig, run_batch
    from tests.media import make_person_video

    rows = []
    with tempfile.TemporaryDirectory(prefix="poserec-corpus-") as tmp:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        for n in range(args.videos):
            make_person_video(corpus / f"clip{n:03d}.avi", frames=args.frames)
        for actors in args.actors:
            report = run_batch(BatchConfig(input=str(corpus), out_dir=Path(tmp) / f"out{actors}",
                                           pose_actors=actors, progress=False))
            rows.append({"pose_actors": actors, **asdict(report),
                         "videos_per_minute": report.videos_per_minute,
                         "frames_per_second": report.scored * args.frames / report.seconds})
    print(f"{args.videos} videos of {args.frames} frames (320x320, 30 FPS)\n")
    print("| pose actors | videos | windows | seconds | videos/min | frames/s |\n"
          "|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['pose_actors']} | {r['scored']} | {r['windows']} | {r['seconds']:.1f} "
              f"| {r['videos_per_minute']:.1f} | {r['frames_per_second']:.1f} |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
