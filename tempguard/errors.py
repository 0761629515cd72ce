"""Exceptions and warnings raised by tempguard."""

__unittest = True


class TempGuardError(Exception):
    """Base class of every error tempguard raises."""


class UnsafePathError(TempGuardError, ValueError):
    """A path that would take tempguard outside what it may touch."""


class HandleLostError(TempGuardError, OSError):
    """A directory tempguard held by its descriptor is no longer behind that descriptor,
    and its path no longer leads to it: nothing is done there."""


class TempLeakWarning(UserWarning):
    """A test left temporary files or directories behind."""
