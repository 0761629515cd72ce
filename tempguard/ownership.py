"""Who may still remove a temp entry, and so when tempguard may judge it a leak.

An entry is attributed to the test, subTest or fixture during which it
appeared, and judged only once no owner that could still remove it is left:
later tests of its class and the class's teardown and cleanups, the module's
teardown and cleanups, and the interpreter's exit (atexit handlers,
finalizers, multiprocessing's own temp dir). What is gone by then was no
leak. CPython's regrtest judges in the parent after the worker exited for the
same reason (gh-93353).
"""

import atexit
import collections
import gc
import stat
import sys
import tempfile
import unittest
import weakref

from .real import os
from . import origins as _origins
from .cleanup import inode_key

__all__ = ["LEVELS", "Candidate", "Ledger", "atexit_log", "atexit_mark", "candidate_path",
           "class_may_own", "exit_owned", "kind_of", "module_may_own", "state_of"]

# The levels an entry is judged at, innermost first: the end of a test, of its class,
# of its module, of the run; once a child's processes exited; after interpreter exit.
LEVELS = ("test", "class", "module", "run", "child", "exit")

Candidate = collections.namedtuple("Candidate",
                                   "place name identity kind where owner record mark origin")
Candidate.__new__.__defaults__ = (None,)
Candidate.__doc__ = """An entry waiting for judgement.

place is the HeldDirectory it appeared in, identity its (st_dev, st_ino),
where "sandbox" or "outside", owner the id it is attributed to (a test,
subTest or fixture), record that owner's TestRecord, and mark the
atexit_mark() when watching began (a handler registered since may remove
it at exit), and origin where it was made (see origins), or None.
"""


def candidate_path(candidate):
    return entry_path(candidate.place.path, candidate.name)


def entry_path(directory, name):
    """os.path.join for a name in a directory, faster: thousands of leaks are joined."""
    return directory + name if directory[-1:] == "/" else directory + "/" + name


def state_of(candidate):
    """"same", "gone", or "replaced" (another entry now has its name)."""
    st = candidate.place.stat(candidate.name)
    if st is None:
        return "gone"
    return "same" if inode_key(st) == candidate.identity else "replaced"


def kind_of(mode):
    """file, dir or other, from an lstat mode."""
    return "dir" if stat.S_ISDIR(mode) else "file" if stat.S_ISREG(mode) else "other"


class _AtexitLog(object):
    """The atexit handlers registered while a guarded run lasts (CPython lists none)."""

    def __init__(self):
        self.handlers = []
        self._original = None

    def start(self):
        if self._original is None:
            self._original = atexit.register
            atexit.register = self._register

    def stop(self):
        if self._original is not None:
            atexit.register = self._original
            self._original = None

    def _register(self, func, *args, **kwargs):
        self.handlers.append((func, args, kwargs))
        return self._original(func, *args, **kwargs)


atexit_log = _AtexitLog()


def atexit_mark():
    """A mark for the handlers registered from now on (see exit_owned)."""
    return len(atexit_log.handlers)


def class_may_own(cls, plain_runs=(unittest.TestCase.run,)):
    """True if the class's teardown, class cleanups or a run() wrapper (code that runs
    after each test's end) may still remove what its tests made."""
    if getattr(cls, "run", None) not in plain_runs:
        return True
    own = getattr(cls, "tearDownClass", None)
    if getattr(own, "__func__", None) is not unittest.TestCase.tearDownClass.__func__:
        return True
    return bool(getattr(cls, "_class_cleanups", None))


def module_may_own(module_name):
    """True if the module's teardown or module cleanups (3.8+) may still remove entries."""
    module = sys.modules.get(module_name)
    if module is not None and hasattr(module, "tearDownModule"):
        return True
    return bool(getattr(unittest.case, "_module_cleanups", None))


def exit_owned(candidates, handlers=True):
    """The candidates that something will remove at interpreter exit, as a set of paths.

    Owners found: an atexit handler registered since the entry appeared that
    names it (in its arguments, closure or bound object) or that is the
    user's own code (it may remove it some other way), a live finalizer
    (weakref.finalize with atexit, as TemporaryDirectory uses, or
    multiprocessing's) whose arguments name it, a live NamedTemporaryFile
    that will remove it, and multiprocessing's per-process temp dir. Without
    *handlers*, atexit handlers are not asked (from an atexit handler: those
    registered since have run).
    """
    if not candidates:
        return set()
    named = _paths_finalizers_name()
    if any(candidate.kind == "file" and candidate_path(candidate) not in named
           for candidate in candidates):
        named |= _paths_named_temporary_files_hold()
    handlers = atexit_log.handlers if handlers else []
    owned = set()
    for candidate in candidates:
        path = candidate_path(candidate)
        if path in named or any(_may_remove(handler, path)
                                for handler in handlers[candidate.mark:]):
            owned.add(path)
    return owned


def _may_remove(handler, path):
    func, args, kwargs = handler
    if not (_is_library(func) or _is_harness(func)):
        return True
    return path in set(_strings(_values(func, args, kwargs)))


# Test harnesses whose exit handlers own only what they name, as the stdlib's do.
_HARNESS_PACKAGES = ("_pytest", "pluggy", "xdist", "tempguard")


def _is_harness(func):
    return (getattr(func, "__module__", None) or "").partition(".")[0] in _HARNESS_PACKAGES


def _values(func, args, kwargs):
    """What a handler holds: its arguments, closure, partial's and bound object's values."""
    values = list(args) + list(kwargs.values())
    for cell in getattr(func, "__closure__", None) or ():
        try:
            values.append(cell.cell_contents)
        except ValueError:
            continue
    values += list(getattr(func, "args", ())) + list((getattr(func, "keywords", None)
                                                      or {}).values())
    values += list(getattr(getattr(func, "__self__", None), "__dict__", {}).values())
    flat = []
    for value in values:
        flat.extend(value if isinstance(value, (list, tuple, set, frozenset)) else [value])
    return flat


def _is_library(func):
    """True for a function of the standard library (see origins.is_library_file)."""
    module = sys.modules.get((getattr(func, "__module__", None) or "").partition(".")[0])
    if module is None:
        return False
    path = getattr(module, "__file__", None)
    return path is None or _origins.is_library_file(os.path.abspath(path))


def _paths_finalizers_name():
    names = set()
    # weakref.finalize and multiprocessing keep their registries private; both
    # have stayed the same from 3.6 to 3.13.
    for info in list(getattr(weakref.finalize, "_registry", {}).values()):
        if info.atexit:
            names.update(_strings(info.args))
    mp_util = sys.modules.get("multiprocessing.util")
    if mp_util is not None:
        for finalizer in list(getattr(mp_util, "_finalizer_registry", {}).values()):
            names.update(_strings(getattr(finalizer, "_args", None) or ()))
        process = sys.modules.get("multiprocessing.process")
        tempdir = process.current_process()._config.get("tempdir") if process else None
        if tempdir:
            names.add(tempdir)
    return names


def _paths_named_temporary_files_hold():
    """The files of live NamedTemporaryFile objects that will remove them: when closed,
    collected, or at the latest at interpreter shutdown (they have no finalizer)."""
    closer = getattr(tempfile, "_TemporaryFileCloser", None)
    if closer is None:
        return set()
    # 3.12+ removes the file at cleanup (delete_on_close may leave it past close).
    done = "cleanup_called" if hasattr(closer, "cleanup_called") else "close_called"
    return set(_strings(obj.name for obj in gc.get_objects()
                        if type(obj) is closer and obj.delete and not getattr(obj, done, True)))


def _strings(values):
    for value in values:
        if isinstance(value, (str, bytes)) or hasattr(value, "__fspath__"):
            try:
                yield os.fsdecode(value)
            except TypeError:
                continue


class Ledger(object):
    """Entries waiting for judgement, filed under the scope whose end judges them next:
    one of LEVELS, or a key of the harness's own (a pytest fixture)."""

    def __init__(self):
        self._waiting = collections.defaultdict(list)

    def hold(self, scope, candidates):
        self._waiting[scope].extend(candidates)

    def take(self, scope):
        """The entries due at the end of *scope*; they leave the ledger."""
        return self._waiting.pop(scope, [])

    def waiting(self, scope):
        return list(self._waiting.get(scope, ()))
