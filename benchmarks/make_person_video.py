"""Write a video of a real person for `poserec bench --source VIDEO` (no camera needed).

The person is scikit-image's astronaut photograph under a crop that sways (the test media of
tests/media.py, which MediaPipe tracks), Motion JPEG in .avi at 30 fps.

    python benchmarks/make_person_video.py person.avi --frames 300 --size 640 480
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    """Parse the options, write the video, print its path."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="the .avi file to write")
    parser.add_argument("--frames", type=int, default=300, help="frames (default 300: 10 s)")
    parser.add_argument("--size", type=int, nargs=2, default=(640, 480),
                        metavar=("WIDTH", "HEIGHT"), help="frame size (default 640 480)")
    args = parser.parse_args(argv)
    if args.out.suffix.lower() != ".avi":
        parser.error(f"{args.out}: the file name must end in .avi (Motion JPEG)")
    if args.frames < 1 or min(args.size) < 16:
        parser.error("--frames must be at least 1 and each --size at least 16")
    if not args.out.parent.is_dir():
        parser.error(f"{args.out}: no such directory {args.out.parent}")
    sys.path.insert(0, str(REPO))
    from tests.media import make_person_video

    print(make_person_video(args.out, args.frames, tuple(args.size)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
