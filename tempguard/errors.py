"""Exceptions and warnings raised by tempguard."""

import contextlib
import warnings

__unittest = True


class TempGuardError(Exception):
    """Base class of every error tempguard raises."""


class UnsafePathError(TempGuardError, ValueError):
    """A path that would take tempguard outside what it may touch."""


class HandleLostError(TempGuardError, OSError):
    """A directory tempguard held by its descriptor is no longer behind that descriptor,
    and its path no longer leads to it: nothing is done there."""


class KeepDirRefused(TempGuardError, OSError):
    """--keep-dir names a directory tempguard may not keep files in (another live run's,
    a link, not tempguard's): a usage error, said in one line."""

    def __str__(self):
        return self.strerror or super().__str__()


class TempLeakWarning(UserWarning):
    """A test left temporary files or directories behind."""


@contextlib.contextmanager
def leak_warnings_stay_warnings():
    """While a TempLeakWarning is issued: a filter that makes every warning an error
    (-W error, pytest's filterwarnings = error) leaves it a warning, since only fail
    mode may change an outcome. A filter that names TempLeakWarning is the user's
    choice, and applies."""
    with warnings.catch_warnings():
        if not leak_warnings_named():
            warnings.simplefilter("always", TempLeakWarning)
        yield


def leak_warnings_named():
    """True if a warnings filter names TempLeakWarning: the user's own choice about leak
    warnings (``-W error::tempguard.TempLeakWarning``)."""
    return any(isinstance(category, type) and issubclass(category, TempLeakWarning)
               for _action, _message, category, _module, _line in warnings.filters)
