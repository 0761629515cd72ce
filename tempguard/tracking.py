"""Tracking contexts: which temporary files and directories exist, and who cleans them."""

import atexit
import base64
import itertools
import pathlib
import stat
import tempfile
import threading
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Mapping, Optional, Union

from .real import os
from . import capabilities as _capabilities
from . import cleanup as _cleanup
from .errors import TempGuardError, UnsafePathError

__all__ = [
    "DEFAULT_PREFIX", "ContextStats", "TrackingContext", "tracking",
    "current_context", "create_temp_file", "create_temp_directory",
    "create_temp_tree", "register_file", "register_directory",
    "cleanup_all", "get_stats",
]

DEFAULT_PREFIX = "tempguard-"

if TYPE_CHECKING:  # the standard os, for its PathLike: tempguard's calls use .real's
    import os as _standard_os

# The public API's types (docs/api.rst), in syntax Python 3.6 reads.
Content = Optional[Union[str, bytes]]
PathArg = Union[str, "_standard_os.PathLike[str]"]
TreeSpec = Mapping[str, Any]  # values: str, bytes, None or a TreeSpec

# O_NOFOLLOW: a planted link at the new name makes creation fail, never write elsewhere.
_NEW_FILE_FLAGS = (os.O_WRONLY | os.O_CREAT | os.O_EXCL | _capabilities.O_CLOEXEC
                   | _capabilities.O_NOFOLLOW)
_NAME_ATTEMPTS = 10000  # as tempfile.TMP_MAX


class ContextStats(object):
    """Counters of one context, or of the whole process."""

    __slots__ = ("created", "adopted", "cleaned", "bytes", "cleanup_errors")

    def __init__(self) -> None:
        self.created = 0
        self.adopted = 0
        self.cleaned = 0
        self.bytes = 0
        self.cleanup_errors = 0

    def as_dict(self) -> Dict[str, int]:
        return {name: getattr(self, name) for name in self.__slots__}

    def __repr__(self) -> str:
        return "<ContextStats %s>" % " ".join(
            "%s=%d" % item for item in sorted(self.as_dict().items()))


_totals = ContextStats()
_totals_lock = threading.Lock()


def _count(stats, created=0, adopted=0, nbytes=0):
    stats.created += created
    stats.adopted += adopted
    stats.bytes += nbytes
    with _totals_lock:
        _totals.created += created
        _totals.adopted += adopted
        _totals.bytes += nbytes


class _NameSequence(object):
    """Unpredictable, cheap names: a per-process random token and a counter."""

    def __init__(self):
        self._pid = None
        self._token = None
        self._counter = None

    def renew(self):
        self._pid = os.getpid()
        self._token = base64.b32encode(os.urandom(5)).decode("ascii").lower()
        self._counter = itertools.count()

    def name(self, prefix, suffix):
        if self._pid != os.getpid():
            # A forked child shares the parent's token; give it its own.
            self.renew()
        return "%s%s-%x%s" % (prefix, self._token, next(self._counter), suffix)


_names = _NameSequence()


class TrackingContext(object):
    """Owns the temporary files and directories made or adopted through it.

    Use it as a context manager (``with tempguard.tracking() as ctx:``): while
    active it is the current context of its thread, and leaving it removes
    everything it owns, whatever happened inside.
    """

    def __init__(self, name: Optional[str] = None) -> None:
        if name is not None and not isinstance(name, str):
            raise TypeError("context name must be a str or None, not %s"
                            % type(name).__name__)
        self.name = name
        self.stats = ContextStats()
        self._files = []
        self._dirs = []
        # The directory each entry was made in, as it was then: cleanup never
        # enters a parent path that a test has since pointed elsewhere.
        self._parents = {}
        self._lock = threading.Lock()
        self._owner_pid = os.getpid()
        self._closed = False
        self._entered_stack = None

    def __repr__(self) -> str:
        return "<TrackingContext %r files=%d dirs=%d%s>" % (
            self.name, len(self._files), len(self._dirs),
            " closed" if self._closed else "")

    # -- creating -----------------------------------------------------------

    def file(self, content: Content = None, suffix: str = "", prefix: Optional[str] = None,
             encoding: str = "utf-8") -> pathlib.Path:
        """Create a new file (mode 0600, O_EXCL like mkstemp) and return its path.

        *content* may be str (encoded with *encoding*), bytes, or None for an
        empty file. The file goes in ``tempfile.gettempdir()``.
        """
        data = as_bytes(content, encoding)
        prefix = check_affix(DEFAULT_PREFIX if prefix is None else prefix, "prefix")
        suffix = check_affix(suffix, "suffix")
        directory = tempfile.gettempdir()
        for _attempt in range(_NAME_ATTEMPTS):
            path = os.path.join(directory, _names.name(prefix, suffix))
            try:
                fd = os.open(path, _NEW_FILE_FLAGS, 0o600)
            except FileExistsError:
                continue
            break
        else:
            raise FileExistsError("no unused file name in %s" % directory)
        _write_and_close(fd, data, path)
        self._adopt_new(path, False, len(data))
        return pathlib.Path(path)

    def directory(self, suffix: str = "", prefix: Optional[str] = None) -> pathlib.Path:
        """Create a new directory (mode 0700) and return its path."""
        prefix = check_affix(DEFAULT_PREFIX if prefix is None else prefix, "prefix")
        suffix = check_affix(suffix, "suffix")
        path = _make_unique_dir(tempfile.gettempdir(), prefix, suffix)
        self._adopt_new(path, True, 0)
        return pathlib.Path(path)

    def tree(self, spec: TreeSpec, root: Optional[PathArg] = None) -> pathlib.Path:
        """Build files and directories from a dict and return the root.

        Keys are relative paths (``"a/b.txt"``; a trailing ``/`` with None makes
        an empty directory; a dict value is a subdirectory); values are str,
        bytes, None or dict. The whole spec is checked before anything is
        written: an absolute key or a ``..`` raises UnsafePathError. With no
        *root*, a new tracked directory is made; with one, the entries made in
        it are tracked, and the root itself is left alone.
        """
        plan = _plan_tree(spec)
        if root is None:
            root_path = str(self.directory())
        else:
            root_path = _existing_directory(root)
        made_here = set()
        for relpath, data in plan:
            path = os.path.join(root_path, relpath)
            parent = os.path.dirname(relpath)
            if data is None:
                if not _make_dir_once(path):
                    continue
                nbytes = 0
            else:
                fd = os.open(path, _NEW_FILE_FLAGS, 0o600)
                _write_and_close(fd, data, path)
                nbytes = len(data)
            if root is None or parent in made_here:
                made_here.add(relpath)
                self._count_created(nbytes)
            else:
                made_here.add(relpath)
                self._adopt_new(path, data is None, nbytes)
        return pathlib.Path(root_path)

    def register(self, path: PathArg) -> pathlib.Path:
        """Adopt a file or directory made by other code; it is removed with this context."""
        path = _checked_path(path)
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            raise FileNotFoundError(
                "cannot register %s: it does not exist" % path) from None
        _refuse_protected(path)
        self._adopt(path, stat.S_ISDIR(st.st_mode))
        return pathlib.Path(path)

    # -- cleaning -----------------------------------------------------------

    def cleanup(self) -> _cleanup.CleanupResult:
        """Remove everything this context owns; safe to call again.

        Returns a CleanupResult. Does nothing in a forked child: the files
        belong to the process that made them.
        """
        if os.getpid() != self._owner_pid:
            return _cleanup.CleanupResult()
        with self._lock:
            files, self._files = self._files, []
            dirs, self._dirs = self._dirs, []
        if not files and not dirs:
            return _cleanup.CleanupResult()
        dirs.sort(key=_depth, reverse=True)
        result = _cleanup.remove_paths(files + dirs, parents=self._parents)
        self.stats.cleaned += result.removed
        self.stats.cleanup_errors += len(result.problems)
        with _totals_lock:
            _totals.cleaned += result.removed
            _totals.cleanup_errors += len(result.problems)
        return result

    def tracked_paths(self) -> List[pathlib.Path]:
        """The tracked top-level paths, files first (a snapshot)."""
        with self._lock:
            return [pathlib.Path(p) for p in self._files + self._dirs]

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> "TrackingContext":
        if self._closed:
            raise TempGuardError("tracking context %r is closed" % (self.name,))
        _push(self)
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def close(self) -> _cleanup.CleanupResult:
        """Leave the context: it stops accepting files and removes what it owns."""
        _pop(self)
        self._closed = True
        result = self.cleanup()
        _open_contexts.discard(self)
        return result

    # -- bookkeeping ----------------------------------------------------------

    def _count_created(self, nbytes):
        _count(self.stats, created=1, nbytes=nbytes)

    def _adopt_new(self, path, is_dir, nbytes):
        self._track(path, is_dir)
        _count(self.stats, created=1, nbytes=nbytes)

    def _adopt(self, path, is_dir):
        self._track(path, is_dir)
        _count(self.stats, adopted=1)

    def _track(self, path, is_dir):
        parent = os.path.dirname(path)
        if parent not in self._parents:
            st = os.stat(parent)
            self._parents[parent] = _cleanup.inode_key(st)
        with self._lock:
            if not self._closed:
                (self._dirs if is_dir else self._files).append(path)
                _open_contexts.add(self)
                return
        # A thread outlived its context: take back what it just made.
        _cleanup.remove_paths([path])
        raise TempGuardError("tracking context %r is closed; %s was not kept"
                             % (self.name, path))


# -- validation helpers -------------------------------------------------------

def as_bytes(content, encoding):
    """A helper file's *content* (str, bytes or None) as bytes; TypeError for the rest."""
    if content is None:
        return b""
    if isinstance(content, str):
        return content.encode(encoding)
    if isinstance(content, (bytes, bytearray, memoryview)):
        return bytes(content)
    raise TypeError("file content must be str, bytes or None, not %s"
                    % type(content).__name__)


def check_affix(value, what):
    """*value*, a prefix or suffix (*what*) of a helper's name, checked to stay one name."""
    if not isinstance(value, str):
        raise TypeError("%s must be a str, not %s" % (what, type(value).__name__))
    if "\0" in value or os.sep in value or (os.altsep and os.altsep in value):
        raise UnsafePathError("%s %r may not contain a path separator or NUL"
                              % (what, value))
    return value


def _checked_path(path):
    """An absolute str path from str or os.PathLike, refusing empty and NUL."""
    try:
        path = os.fspath(path)
    except TypeError:
        raise TypeError("path must be str or os.PathLike, not %s"
                        % type(path).__name__) from None
    if not isinstance(path, str):
        raise TypeError("path must be str or os.PathLike of str, not %s"
                        % type(path).__name__)
    if not path:
        raise ValueError("path must not be empty")
    if "\0" in path:
        raise ValueError("path %r contains NUL" % path)
    return os.path.abspath(path)


def _existing_directory(path):
    path = _checked_path(path)
    if not os.path.isdir(path) or _cleanup.is_link_at(path):
        raise NotADirectoryError("tree root %s is not an existing directory" % path)
    return path


def _refuse_protected(path):
    """Refuse to adopt a path whose removal would take far more than a temp file."""
    real = os.path.realpath(path)
    for protected in _protected_dirs():
        if real == protected or protected.startswith(real.rstrip(os.sep) + os.sep):
            raise UnsafePathError(
                "refusing to register %s: removing it would remove %s" % (path, protected))


def _protected_dirs():
    # gettempdir() may be a sandbox; refusing its ancestors protects the real temp dir.
    candidates = [os.sep, os.getcwd(), os.path.expanduser("~"), tempfile.gettempdir()]
    return {os.path.realpath(candidate) for candidate in candidates}


def _depth(path):
    return path.count(os.sep)


def _write_and_close(fd, data, path):
    """Write all of *data*; on failure (disk full) remove the file and re-raise."""
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    except BaseException:
        os.close(fd)
        _cleanup.remove_paths([path])
        raise
    os.close(fd)


def _make_unique_dir(directory, prefix, suffix):
    for _attempt in range(_NAME_ATTEMPTS):
        path = os.path.join(directory, _names.name(prefix, suffix))
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            continue
        return path
    raise FileExistsError("no unused directory name in %s" % directory)


def _make_dir_once(path):
    """mkdir; True if made, False if a real directory (not a link) is already there."""
    try:
        os.mkdir(path, 0o700)
        return True
    except FileExistsError:
        st = os.lstat(path)
        if stat.S_ISDIR(st.st_mode) and not _cleanup.is_link(st):  # a junction is a link
            return False
        raise UnsafePathError("%s exists and is not a directory (a link is never followed)"
                              % path) from None


def _plan_tree(spec):
    """Flatten and check a tree spec: [(relative path, bytes or None for a dir)], parents first."""
    if not isinstance(spec, dict):
        raise TypeError("tree spec must be a dict, not %s" % type(spec).__name__)
    kinds = {}
    pending = [("", spec)]
    while pending:
        base, mapping = pending.pop()
        for key, value in mapping.items():
            parts = _key_parts(key)
            relpath = os.path.join(base, *parts) if parts else base
            if not parts:
                raise UnsafePathError("tree key %r names no file or directory" % (key,))
            for depth in range(1, len(parts)):
                _claim(kinds, os.path.join(base, *parts[:depth]), None, key)
            is_dir = isinstance(value, dict) or (value is None and key.endswith("/"))
            if isinstance(value, dict):
                _claim(kinds, relpath, None, key)
                pending.append((relpath, value))
            elif is_dir:
                _claim(kinds, relpath, None, key)
            elif key.endswith("/"):
                raise UnsafePathError("tree key %r names a directory but its value is %s"
                                      % (key, type(value).__name__))
            else:
                _claim(kinds, relpath, _as_tree_bytes(key, value), key)
    return sorted(kinds.items(), key=lambda item: (item[0].count(os.sep), item[1] is not None))


def _key_parts(key):
    if not isinstance(key, str):
        raise TypeError("tree keys must be str, not %s" % type(key).__name__)
    if "\0" in key:
        raise UnsafePathError("tree key %r contains NUL" % key)
    if key.startswith("/") or os.path.isabs(key):
        raise UnsafePathError("tree key %r is absolute; keys must stay inside the root" % key)
    parts = [part for part in key.replace(os.sep, "/").split("/") if part not in ("", ".")]
    if ".." in parts:
        raise UnsafePathError("tree key %r escapes the root with '..'" % key)
    return parts


def _as_tree_bytes(key, value):
    try:
        return as_bytes(value, "utf-8")
    except TypeError:
        raise TypeError("tree value for %r must be str, bytes, None or dict, not %s"
                        % (key, type(value).__name__)) from None


def _claim(kinds, relpath, data, key):
    """Record what *relpath* will be; a clash of file and directory is an error."""
    if relpath in kinds:
        previous = kinds[relpath]
        if previous is None and data is None:
            return
        raise UnsafePathError("tree key %r clashes with another entry at %r" % (key, relpath))
    kinds[relpath] = data


# -- the registry of current contexts ------------------------------------------

_main_stack = []
_local = threading.local()
# Contexts that own something, for cleanup_all(); a context leaves it when closed.
_open_contexts = set()
# Where current_context() goes when no context is active; a guarded run sets it.
_fallback = None
_default = None
_default_lock = threading.Lock()


def _thread_stack():
    stack = getattr(_local, "stack", None)
    if stack is None:
        is_main = threading.current_thread() is threading.main_thread()
        stack = _local.stack = _main_stack if is_main else []
    return stack


def _push(context):
    stack = _thread_stack()
    stack.append(context)
    context._entered_stack = stack


def _pop(context):
    stack = context._entered_stack
    if stack is not None and context in stack:
        stack.remove(context)
    context._entered_stack = None


def tracking(name: Optional[str] = None) -> TrackingContext:
    """A new TrackingContext, to use in a ``with`` statement; contexts nest."""
    return TrackingContext(name)


def current_context() -> TrackingContext:
    """The innermost active context of this thread, else of the main thread, else a default.

    The default context lives for the whole process and is cleaned at
    interpreter exit, by the process that made it only.
    """
    stack = _thread_stack()
    if stack:
        return stack[-1]
    if _main_stack:
        return _main_stack[-1]
    if _fallback is not None:
        return _fallback()
    return _default_context()


def set_fallback(provider: Optional[Callable[[], TrackingContext]]
                 ) -> Optional[Callable[[], TrackingContext]]:
    """Make current_context() call *provider* when no context is active (None: the default).

    Returns the previous provider, to put back later. A guarded run uses it
    to give fixtures between tests a context without a push per test.
    """
    global _fallback
    previous, _fallback = _fallback, provider
    return previous


def _default_context():
    global _default
    with _default_lock:
        if _default is None or _default._owner_pid != os.getpid():
            _default = TrackingContext("default")
            atexit.register(_default.cleanup)
        return _default


def create_temp_file(content: Content = None, suffix: str = "", prefix: Optional[str] = None,
                     encoding: str = "utf-8") -> pathlib.Path:
    """Create a tracked file in the current context; see TrackingContext.file."""
    return current_context().file(content, suffix=suffix, prefix=prefix, encoding=encoding)


def create_temp_directory(suffix: str = "", prefix: Optional[str] = None) -> pathlib.Path:
    """Create a tracked directory in the current context."""
    return current_context().directory(suffix=suffix, prefix=prefix)


def create_temp_tree(spec: TreeSpec, root: Optional[PathArg] = None) -> pathlib.Path:
    """Build a tracked tree in the current context; see TrackingContext.tree."""
    return current_context().tree(spec, root=root)


def register_file(path: PathArg) -> pathlib.Path:
    """Adopt an existing file (or link) into the current context."""
    checked = _checked_path(path)
    if os.path.isdir(checked) and not _cleanup.is_link_at(checked):
        raise IsADirectoryError("cannot register %s as a file: it is a directory" % checked)
    return current_context().register(checked)


def register_directory(path: PathArg) -> pathlib.Path:
    """Adopt an existing directory, with its contents, into the current context."""
    checked = _checked_path(path)
    if os.path.lexists(checked) and (_cleanup.is_link_at(checked)
                                     or not os.path.isdir(checked)):
        raise NotADirectoryError("cannot register %s as a directory: it is not one" % checked)
    return current_context().register(checked)


def cleanup_all() -> _cleanup.CleanupResult:
    """Clean every open context of this process; returns the combined CleanupResult."""
    result = _cleanup.CleanupResult()
    for context in list(_open_contexts):
        result.add(context.cleanup())
    return result


def get_stats() -> ContextStats:
    """Process-wide totals over every context so far (a copy)."""
    copy = ContextStats()
    with _totals_lock:
        for name in ContextStats.__slots__:
            setattr(copy, name, getattr(_totals, name))
    return copy
