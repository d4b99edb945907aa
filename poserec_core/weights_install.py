"""Install the published release: fetch, verify each sha256, convert pickles to .npy."""
from __future__ import annotations

import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np

from .bundle import atomic_write_bytes, read_manifest, sha256_file, write_manifest
from .errors import UnsafePickleError, WeightsError
from .release import RELEASE_COMMIT, RELEASE_FILES, RELEASE_REPO, UPSTREAM_BASE, WINDOW_FRAMES, ReleaseFile
from .safe_pickle import load_numpy_pickle

_PICKLE_LIMIT = 64 << 20
_DOWNLOAD_TIMEOUT_S = 60
_DOWNLOAD_LIMIT = 64 << 20
"""No release file is near this size (the largest, the encoder, is under 4 MB); a server that
sends more is refused before it fills the disk."""


def default_weights_dir() -> Path:
    """$POSEREC_WEIGHTS_DIR, else `weights/` of a source checkout, else a per-user cache."""
    env = os.environ.get("POSEREC_WEIGHTS_DIR")
    if env:
        return Path(env).expanduser()
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "setup.cfg").is_file() and (checkout / "weights").is_dir():
        return checkout / "weights"
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "poserec" / "weights"


def default_source() -> str:
    """$POSEREC_WEIGHTS_SOURCE, else the upstream repository at the pinned commit."""
    return os.environ.get("POSEREC_WEIGHTS_SOURCE") or UPSTREAM_BASE


def _is_url(source: str) -> bool:
    return source.startswith(("http://", "https://", "file://"))


def _fetch(entry: ReleaseFile, source: str, into: Path) -> Path:
    """Copy or download one release file into `into`; return the local path."""
    target = into / entry.name
    if _is_url(source):
        url = f"{source.rstrip('/')}/{entry.upstream_path}"
        try:
            with urllib.request.urlopen(url, timeout=_DOWNLOAD_TIMEOUT_S) as response, \
                    open(target, "wb") as out:
                for block in iter(lambda: response.read(1 << 20), b""):
                    if out.tell() + len(block) > _DOWNLOAD_LIMIT:
                        raise WeightsError(f"{entry.name}: {url} sends more than "
                                           f"{_DOWNLOAD_LIMIT} bytes; not the release file")
                    out.write(block)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise WeightsError(f"{entry.name}: download from {url} failed ({exc}); check the "
                               "network or pass --from DIR with the release files") from None
        return target
    base = Path(source).expanduser()
    if not base.is_dir():
        raise WeightsError(f"{source}: no such directory of release files (--from or "
                           "POSEREC_WEIGHTS_SOURCE)")
    for candidate in (base / entry.name, base / entry.upstream_path):
        if candidate.is_file():
            return candidate
    raise WeightsError(f"{entry.name}: missing from {base}; the release needs "
                       + ", ".join(f.name for f in RELEASE_FILES))


def _verified(entry: ReleaseFile, path: Path) -> Path:
    actual = sha256_file(path)
    if actual != entry.sha256:
        raise WeightsError(f"{entry.name}: sha256 {actual[:12]}... is not the release's "
                           f"{entry.sha256[:12]}...; the file is truncated, corrupt or not the "
                           "published one: fetch it again")
    return path


def _install_one(entry: ReleaseFile, path: Path, dest: Path) -> None:
    target = dest / entry.installed_as
    if entry.name.endswith(".pkl"):
        try:
            obj = load_numpy_pickle(path, _PICKLE_LIMIT)
        except UnsafePickleError as exc:
            raise WeightsError(str(exc)) from None
        array = np.stack(obj) if isinstance(obj, list) else obj
        fd, tmp = tempfile.mkstemp(dir=dest, suffix=".npy")
        os.close(fd)
        np.save(tmp, np.ascontiguousarray(array), allow_pickle=False)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    elif path.resolve() != target.resolve():
        atomic_write_bytes(target, path.read_bytes())


def install_release(source: str | None = None, dest: Path | None = None) -> Path:
    """Install the five release files into `dest`; every hash is checked before anything lands."""
    source = source or default_source()
    dest = Path(dest) if dest is not None else default_weights_dir()
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest, prefix=".download-") as tmp:
        fetched = {e.name: _verified(e, _fetch(e, source, Path(tmp))) for e in RELEASE_FILES}
        for entry in RELEASE_FILES:
            _install_one(entry, fetched[entry.name], dest)
    write_manifest(dest, {e.role: e.installed_as for e in RELEASE_FILES},
                   origin=f"{RELEASE_REPO}@{RELEASE_COMMIT} from {source}",
                   window_frames=WINDOW_FRAMES)
    return dest


def verify_installed(dest: Path | None = None) -> list[tuple[str, Path]]:
    """Check every installed file's sha256 against the manifest; return (role, path) pairs."""
    return read_manifest(dest if dest is not None else default_weights_dir()).verify()
