"""Exceptions and warnings raised by tempguard."""

__unittest = True


class TempGuardError(Exception):
    """Base class of every error tempguard raises."""


class UnsafePathError(TempGuardError, ValueError):
    """A path that would take tempguard outside what it may touch."""


class TempLeakWarning(UserWarning):
    """A test left temporary files or directories behind."""
