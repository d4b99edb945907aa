"""The corpus job's output folder: three Parquet tables written in committed parts, and job.json.

OUT_DIR/windows/  one row per window: video, window, window_end, items, names, scores (top-k)
OUT_DIR/videos/   one row per scored video: its frame counts and its aggregated top-k
OUT_DIR/errors/   one row per video that could not be used: video, reason
OUT_DIR/job.json  the settings the rows were made with; a later run must use the same ones

Each flush writes `part-<run>-<n>.parquet` into the three folders, the `videos` part last: a
part is committed once its `videos` file exists, and parts left uncommitted by a crashed run are
deleted when the folder is opened again. The videos done are those of `videos` and `errors`.
"""
from __future__ import annotations

import json
import os
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from poserec_core.errors import PoseRecError

JOB_FORMAT = "poserec-batch/1"
TABLES = ("windows", "errors", "videos")
"""Table folders, in the order a part is written (`videos` last commits it)."""

_TOP = [("items", pa.list_(pa.int32())), ("names", pa.list_(pa.string())),
        ("scores", pa.list_(pa.float32()))]
SCHEMAS = {
    "windows": pa.schema([("video", pa.string()), ("window", pa.int32()),
                          ("window_end", pa.int64()), *_TOP]),
    "videos": pa.schema([("video", pa.string()), ("frames", pa.int64()),
                         ("frames_with_person", pa.int64()), ("windows", pa.int64()), *_TOP]),
    "errors": pa.schema([("video", pa.string()), ("reason", pa.string())]),
}


@dataclass(frozen=True)
class JobSettings:
    """What the rows depend on: a second run into the same folder must match them."""

    window: int
    stride: int
    top_k: int
    aggregation: str


class ResultTables:
    """Appends parts to OUT_DIR's tables and says which videos are already done."""

    def __init__(self, out_dir: Path, settings: JobSettings):
        self.out_dir = Path(out_dir)
        self.settings = settings
        self.run_id = uuid.uuid4().hex[:8]
        self._parts = 0
        self._rows = {name: [] for name in TABLES}

    def open(self) -> set[str]:
        """Create or check OUT_DIR, drop uncommitted parts; return the videos already done."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        job = self.out_dir / "job.json"
        wanted = {"format": JOB_FORMAT, **asdict(self.settings)}
        if job.is_file():
            try:
                found = json.loads(job.read_text())
            except json.JSONDecodeError as exc:
                raise PoseRecError(f"{job}: not a valid job file ({exc}); use another output "
                                   "folder") from None
            if found != wanted:
                diff = ", ".join(f"{k} {found.get(k)!r}" for k in wanted if found.get(k) != wanted[k])
                raise PoseRecError(f"{self.out_dir}: holds results made with {diff}; use the same "
                                   "settings or another output folder")
        else:
            job.write_text(json.dumps(wanted, indent=2) + "\n")
        for name in TABLES:
            (self.out_dir / name).mkdir(exist_ok=True)
        committed = {p.name for p in (self.out_dir / "videos").glob("part-*.parquet")}
        for name in ("windows", "errors"):
            for part in (self.out_dir / name).glob("part-*.parquet"):
                if part.name not in committed:
                    part.unlink()
        return self.done_videos()

    def done_videos(self) -> set[str]:
        """Videos with a row in `videos` or `errors`."""
        done = set()
        for name in ("videos", "errors"):
            if any((self.out_dir / name).glob("part-*.parquet")):
                done.update(pq.read_table(self.out_dir / name, columns=["video"])
                            .column("video").to_pylist())
        return done

    def add(self, table: str, row: dict) -> None:
        """Buffer one row of `table` until the next flush."""
        self._rows[table].append(row)

    @property
    def pending_videos(self) -> int:
        """Videos buffered since the last flush."""
        return len(self._rows["videos"]) + len(self._rows["errors"])

    def flush(self) -> None:
        """Write the buffered rows as one committed part (nothing when the buffer is empty)."""
        if self.pending_videos == 0:
            return
        name = f"part-{self.run_id}-{self._parts:05d}.parquet"
        for table in TABLES:
            target = self.out_dir / table / name
            tmp = target.with_name(f".{name}.tmp")
            pq.write_table(pa.Table.from_pylist(self._rows[table], schema=SCHEMAS[table]), tmp)
            os.replace(tmp, target)
            self._rows[table] = []
        self._parts += 1
