"""Errors a user can cause. The command line prints their message on one line and exits 2."""


class PoseRecError(Exception):
    """Base class of every error caused by input or set-up, never by a bug."""


class WeightsError(PoseRecError):
    """Release files missing, corrupt, of the wrong hash, keys or shapes."""


class PoseFileError(PoseRecError):
    """A pose file that cannot be read or does not hold (N, T, 33, 4) finite poses."""


class UnsafePickleError(PoseFileError):
    """A pickle that asks for anything but numpy arrays (it is never executed)."""
