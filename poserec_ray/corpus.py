"""The videos of a corpus: INPUT is a folder, a glob pattern, a manifest file or one video."""
from __future__ import annotations

import glob
from pathlib import Path

from poserec_core.errors import PoseRecError

VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg"})
"""File name endings that count as videos when INPUT is a folder or a glob."""

_GLOB_CHARS = "*?["


def _videos_in(paths) -> list[Path]:
    return sorted(p for p in paths if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES)


def _manifest_entries(manifest: Path) -> list[Path]:
    """Paths listed one a line; blank lines and `#` comments skipped; relative to the manifest."""
    try:
        lines = manifest.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise PoseRecError(f"{manifest}: cannot read it as a manifest of video paths ({exc})") from None
    entries = [line.strip() for line in lines]
    return [(manifest.parent / e) for e in entries if e and not e.startswith("#")]


def list_videos(spec: str) -> list[Path]:
    """Absolute paths of INPUT's videos, without duplicates, in a stable order.

    A manifest's entries are kept even when a file is missing: the job records it as an error.
    """
    path = Path(spec).expanduser()
    if any(c in spec for c in _GLOB_CHARS) and not path.exists():
        found = _videos_in(Path(p) for p in glob.glob(str(path), recursive=True))
    elif path.is_dir():
        found = _videos_in(path.rglob("*"))
    elif path.is_file():
        found = [path] if path.suffix.lower() in VIDEO_SUFFIXES else _manifest_entries(path)
    else:
        raise PoseRecError(f"{spec}: no such folder, file or matching glob pattern")
    videos = list(dict.fromkeys(p.resolve() for p in found))
    if not videos:
        raise PoseRecError(f"{spec}: no videos found (looked for "
                           f"{', '.join(sorted(VIDEO_SUFFIXES))})")
    return videos
