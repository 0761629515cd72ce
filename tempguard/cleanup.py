"""Safe deletion: remove files and whole trees without ever following a link.

The walk is iterative (an explicit stack, as in CPython 3.13's
``shutil._rmtree_safe_fd``), so depth is not limited by recursion, and it
works on directory file descriptors with ``O_NOFOLLOW``: a directory swapped
for a link mid-walk is removed as a link and its target is never opened,
listed, chmod-ed or deleted (the bug class of CVE-2023-6597).
"""

import collections
import errno
import stat
import time
from typing import List

from .real import os
from . import capabilities as _capabilities

__all__ = ["DIR_FLAGS", "CleanupProblem", "CleanupResult", "inode_key", "is_link", "is_link_at",
           "mount_of", "remove_entries", "remove_if_unchanged", "remove_paths", "version_key"]

# How tempguard opens a directory it works in: never through a link, never inherited.
DIR_FLAGS = (os.O_RDONLY | _capabilities.O_DIRECTORY
             | _capabilities.O_NOFOLLOW | _capabilities.O_CLOEXEC)
_use_fd_functions = _capabilities.FD_FUNCTIONS  # else a path walk, open to swap races
# Linux cannot chmod without following links; an O_PATH fd pins the inode.
_chmod_via_o_path = hasattr(os, "O_PATH") and _capabilities.PROC
_chmod_has_nofollow = os.chmod in os.supports_follow_symlinks

# Directory fds one walk may hold; deeper parents are reopened through "..".
_MAX_HELD_FDS = 64
_REPAIRED_MODE = 0o700


class CleanupProblem(collections.namedtuple("CleanupProblem", "path reason replaced in_use")):
    """A path that could not be removed, and why. Not failures: *replaced*, an entry that
    another one took the place of, left alone on purpose; *in_use*, a file Windows would
    not remove while it is open, tried again when its run ends."""

    __slots__ = ()

    def __new__(cls, path: str, reason: str, replaced: bool = False, in_use: bool = False
                ) -> "CleanupProblem":
        return super(CleanupProblem, cls).__new__(cls, path, reason, replaced, in_use)

    def __str__(self) -> str:
        return "%s: %s" % (self.path, self.reason)


class CleanupResult(object):
    """What one cleanup removed, how long it took, and what it could not remove."""

    def __init__(self) -> None:
        self.files = 0
        self.dirs = 0
        self.bytes = 0
        self.seconds = 0.0
        self.problems = []  # type: List[CleanupProblem]

    @property
    def removed(self) -> int:
        """Entries removed: files, links and directories."""
        return self.files + self.dirs

    @property
    def ok(self) -> bool:
        """True when everything asked for is gone."""
        return not self.problems

    def replaced(self) -> List[CleanupProblem]:
        """The problems that are entries replaced under tempguard, not failures to remove."""
        return [problem for problem in self.problems if problem.replaced]

    def say_in_use(self, reason: str) -> "CleanupResult":
        """Give each file found in use (see CleanupProblem), once, *reason*: what becomes
        of it. Returns this result."""
        seen = set()
        problems = []
        for problem in self.problems:
            if problem.in_use:
                if problem.path in seen:
                    continue
                seen.add(problem.path)
                problem = problem._replace(reason=reason)
            problems.append(problem)
        self.problems = problems
        return self

    def add(self, other: "CleanupResult") -> None:
        """Fold another result into this one."""
        self.files += other.files
        self.dirs += other.dirs
        self.bytes += other.bytes
        self.seconds += other.seconds
        self.problems.extend(other.problems)

    def __repr__(self) -> str:
        return ("<CleanupResult files=%d dirs=%d bytes=%d seconds=%.6f problems=%d>"
                % (self.files, self.dirs, self.bytes, self.seconds, len(self.problems)))


def remove_paths(paths, parents=None):
    """Remove each path (file, link or directory with its contents); never raises.

    Links are removed as links. Permissions are repaired only inside a
    directory being removed, never on its parent. Paths that are already gone
    are not problems. Consecutive paths with the same parent share one open
    directory, so pass files first, then directories deepest first. *parents*
    maps a parent path to the (st_dev, st_ino) it had when its entries were
    made: a parent path that now names another directory (swapped for a
    link, say) is not entered, and its entries are reported.
    """
    result = CleanupResult()
    started = time.perf_counter()
    parent_path = parent_fd = None
    replaced = False
    try:
        for path in paths:
            path = os.fspath(path)
            parent, name = os.path.split(path)
            if parent != parent_path:
                if parent_fd is not None:
                    os.close(parent_fd)
                parent_path, parent_fd, replaced = parent, None, False
                try:
                    parent_fd, replaced = _open_parent(parent, (parents or {}).get(parent))
                except FileNotFoundError:
                    pass
                except OSError as exc:
                    parent_path = None
                    _record(result, path, exc)
                    continue
            if replaced:
                result.problems.append(CleanupProblem(
                    path, "replaced: its directory is no longer the one it was made in; "
                          "left alone", True))
            elif parent_fd is not None:
                _remove_in_parent(parent_fd, name, path, result)
            elif not _use_fd_functions and parent_path is not None:
                _remove_by_path(path, result)
    finally:
        if parent_fd is not None:
            os.close(parent_fd)
        result.seconds = time.perf_counter() - started
    return result


def _open_parent(parent, expected):
    """(fd or None, replaced): the parent opened, unless it is no longer *expected*.

    Without fd functions there is no fd; a parent that is a link counts as
    replaced, since deleting through it would reach wherever it points.
    """
    if not _use_fd_functions:
        st = os.lstat(parent or ".")
        return None, is_link(st) or (expected is not None and inode_key(st) != expected)
    fd = os.open(parent or ".", os.O_RDONLY | _capabilities.O_CLOEXEC)
    if expected is not None:
        st = os.fstat(fd)
        if inode_key(st) != expected:
            os.close(fd)
            return None, True
    return fd, False


def is_link(st):
    """True for an lstat result of a link: a symbolic link, or on Windows a junction or
    another reparse point (lstat calls a junction a directory; os.unlink removes it as
    the link it is, and one it cannot is left alone)."""
    return stat.S_ISLNK(st.st_mode) or bool(
        getattr(st, "st_file_attributes", 0) & _REPARSE_POINT)


_REPARSE_POINT = getattr(stat, "FILE_ATTRIBUTE_REPARSE_POINT", 0x400)


def is_link_at(path):
    """True if *path* is a link or a junction (see is_link); False if it is not, or is
    gone. os.path.islink says False of a junction before Python 3.12."""
    try:
        return is_link(os.lstat(path))
    except (OSError, ValueError):
        return False


def inode_key(st):
    """Which file a stat result is of: (st_dev, st_ino), the identity tempguard checks."""
    return (st.st_dev, st.st_ino)


def version_key(st):
    """Which file, as it was: (st_dev, st_ino, st_mtime_ns); a file modified since differs."""
    return (st.st_dev, st.st_ino, st.st_mtime_ns)


def remove_if_unchanged(path, expected):
    """Remove *path* as remove_paths does, unless it is no longer the entry that was checked.

    *expected* is version_key() of an earlier lstat: an entry replaced or modified
    since then is left alone and reported as a problem.
    """
    path = os.fspath(path)
    try:
        current = version_key(os.lstat(path))
    except FileNotFoundError:
        return CleanupResult()
    except OSError as exc:
        result = CleanupResult()
        _record(result, path, exc)
        return result
    if current != expected:
        result = CleanupResult()
        result.problems.append(CleanupProblem(path, "changed since it was checked; left alone",
                                              True))
        return result
    return remove_paths([path])


def remove_entries(dir_fd, dir_path, entries):
    """Remove entries of the open directory *dir_fd* (at *dir_path*), given as (name,
    (st_dev, st_ino) or None), never through a path: one that is no longer the
    entry identified is left alone and reported. With *dir_fd* None, by path."""
    result = CleanupResult()
    started = time.perf_counter()
    prefix = dir_path if dir_path.endswith(os.sep) else dir_path + os.sep
    for name, expected in entries:
        path = prefix + name
        if dir_fd is None:  # held by path (see held.BY_PATH)
            _remove_by_path(path, result, expected)
            continue
        st = None
        if expected is not None:
            st = _lstat_or_record(dir_fd, name, path, result)
            if st is None:
                continue
            if inode_key(st) != expected:
                result.problems.append(CleanupProblem(
                    path, "replaced by another entry since it was seen; left alone", True))
                continue
        _remove_in_parent(dir_fd, name, path, result, st)
    result.seconds = time.perf_counter() - started
    return result


def _record(result, path, exc):
    reason = exc.strerror or str(exc) if isinstance(exc, OSError) else str(exc)
    if getattr(exc, "winerror", None) == _ERROR_SHARING_VIOLATION:
        result.problems.append(CleanupProblem(
            os.fspath(path), "in use: a process has it open (Windows does not remove an open "
                             "file)", in_use=True))
        return
    if getattr(exc, "errno", None) == errno.EBUSY:
        # Linux refuses to unlink or rmdir a mount point (a bind-mounted file, say).
        reason = "another filesystem is mounted here (%s); left alone" % reason
    result.problems.append(CleanupProblem(os.fspath(path), reason))


_ERROR_SHARING_VIOLATION = 32  # Windows: the file is open in a process


def _lstat_or_record(dir_fd, name, path, result):
    """lstat of *name* in *dir_fd*; None if it is gone, or could not be read (the reason
    goes to *result*)."""
    try:
        return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return None
    except OSError as exc:
        _record(result, path, exc)
        return None


def _remove_in_parent(parent_fd, name, path, result, st=None):
    """Remove the entry *name* of the open directory *parent_fd*; *st* is its lstat if
    just taken."""
    if st is None:
        st = _lstat_or_record(parent_fd, name, path, result)
        if st is None:
            return
    if stat.S_ISDIR(st.st_mode):
        _remove_tree(parent_fd, name, path, result)
        return
    try:
        os.unlink(name, dir_fd=parent_fd)
    except FileNotFoundError:
        return
    except IsADirectoryError:
        # Replaced by a directory since the lstat: remove it as one.
        _remove_tree(parent_fd, name, path, result)
        return
    except OSError as exc:
        _record(result, path, exc)
        return
    result.files += 1
    if stat.S_ISREG(st.st_mode):
        result.bytes += st.st_size


class _Frame(object):
    """One open directory of the walk and the subdirectories it has left."""

    __slots__ = ("fd", "parent", "name", "subdirs", "identity", "failed", "top_path")

    def __init__(self, fd, parent, name, top_path=None):
        self.fd = fd
        self.parent = parent
        self.name = name
        self.top_path = top_path
        self.subdirs = None
        self.identity = None
        self.failed = False

    @property
    def path(self):
        """Built on demand: storing every level's full path costs depth squared."""
        names = []
        frame = self
        while frame.top_path is None:
            names.append(frame.name)
            frame = frame.parent
        names.append(frame.top_path)
        return os.path.join(*reversed(names))


def mount_of(fd):
    """(st_dev, mount id or None): which mounted filesystem the open directory *fd* is on."""
    return os.fstat(fd).st_dev, _capabilities.mount_id(fd)


def _left_mounted(fd, home, path, result, listed_ino=None):
    """True (and said, and *fd* closed) if the directory *fd* is a mount point: a
    filesystem mounted inside a tree being removed is not ours, and its source would
    be emptied through it (a bind mount keeps st_dev: the mount id tells).

    *listed_ino* is the inode its parent's listing gave (d_ino): that of the directory
    a mount would cover. Where it is the inode opened, nothing covers it, and the
    mount id need not be read (a bind of a directory onto itself aside, which shows
    only what the tree holds anyway)."""
    st = os.fstat(fd)
    if st.st_dev == home[0] and listed_ino is not None and st.st_ino == listed_ino:
        return False
    if (st.st_dev, _capabilities.mount_id(fd)) == home:
        return False
    os.close(fd)
    result.problems.append(CleanupProblem(path, "another filesystem is mounted here; left alone"))
    return True


def _remove_tree(top_parent_fd, top_name, top_path, result):
    """Remove a directory and everything below it, depth-first, with no recursion."""
    top_fd = _open_subdir(top_parent_fd, top_name, lambda: top_path, result,
                          parent_is_ours=False)
    if top_fd is None:
        return
    home = mount_of(top_parent_fd)
    if _left_mounted(top_fd, home, top_path, result):
        return
    frames = [_Frame(top_fd, None, top_name, top_path)]
    try:
        while frames:
            frame = frames[-1]
            if frame.subdirs is None:
                frame.subdirs = _remove_nondirs(frame, result)
            if frame.subdirs:
                name, listed_ino = frame.subdirs.pop()
                child_fd = _open_subdir(frame.fd, name,
                                        lambda: os.path.join(frame.path, name),
                                        result, parent_is_ours=True)
                if child_fd is None:
                    frame.failed = frame.failed or _exists(frame.fd, name)
                    continue
                if _left_mounted(child_fd, home, os.path.join(frame.path, name), result,
                                 listed_ino):
                    frame.failed = True
                    continue
                frames.append(_Frame(child_fd, frame, name))
                if len(frames) > _MAX_HELD_FDS:
                    _release(frames[-1 - _MAX_HELD_FDS])
                continue
            frames.pop()
            parent = frame.parent
            if parent is not None and parent.fd is None:
                parent.fd = _reopen_parent(frame, parent, result)
                if parent.fd is None:
                    os.close(frame.fd)
                    return
            os.close(frame.fd)
            frame.fd = None
            if frame.failed:
                if parent is not None:
                    parent.failed = True
                continue
            if parent is None:
                _rmdir(top_parent_fd, frame, result, parent_is_ours=False)
            elif not _rmdir(parent.fd, frame, result, parent_is_ours=True):
                parent.failed = True
    finally:
        for frame in frames:
            if frame.fd is not None:
                os.close(frame.fd)


def _exists(dir_fd, name):
    try:
        os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    except OSError:
        return True
    return True


def _open_subdir(dir_fd, name, describe, result, parent_is_ours):
    """Open a directory entry without following a link; None if that failed.

    *describe* returns the path for error reports, only when one is needed.
    """
    try:
        try:
            return os.open(name, DIR_FLAGS, dir_fd=dir_fd)
        except PermissionError:
            if not _repair(dir_fd, name, parent_is_ours):
                raise
            return os.open(name, DIR_FLAGS, dir_fd=dir_fd)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            # Swapped for a link or a file since it was listed: unlink that
            # entry, never what it points to.
            _unlink_entry(dir_fd, name, describe, result)
        else:
            _record(result, describe(), exc)
        return None


def _repair(dir_fd, name, parent_is_ours):
    """Give the owner rwx on a directory (and its parent if that is ours too)."""
    try:
        if parent_is_ours:
            os.fchmod(dir_fd, _REPAIRED_MODE)
        _chmod_dir_nofollow(dir_fd, name, _REPAIRED_MODE)
    except (OSError, NotImplementedError):
        return False
    return True


def _chmod_dir_nofollow(dir_fd, name, mode):
    """chmod a directory entry that must not be a link."""
    if _chmod_via_o_path:
        # O_PATH|O_NOFOLLOW|O_DIRECTORY fails on a link, so the fd is the
        # directory itself and /proc/self/fd/N cannot be redirected.
        fd = os.open(name, os.O_PATH | _capabilities.O_NOFOLLOW | _capabilities.O_DIRECTORY
                     | _capabilities.O_CLOEXEC, dir_fd=dir_fd)
        try:
            os.chmod("/proc/self/fd/%d" % fd, mode)
        finally:
            os.close(fd)
    elif _chmod_has_nofollow:
        os.chmod(name, mode, dir_fd=dir_fd, follow_symlinks=False)
    else:
        raise NotImplementedError("no way to chmod without following links here")


def _unlink_entry(dir_fd, name, describe, result):
    try:
        st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        os.unlink(name, dir_fd=dir_fd)
    except FileNotFoundError:
        return
    except OSError as exc:
        _record(result, describe(), exc)
        return
    result.files += 1
    if stat.S_ISREG(st.st_mode):
        result.bytes += st.st_size


def _remove_nondirs(frame, result):
    """Unlink every non-directory in the frame's directory; return its subdirectories as
    (name, the inode the listing gave or None)."""
    repair = _OnceRepair(frame.fd)
    try:
        entries = repair.call(_list_dir, frame.fd)
    except OSError as exc:
        _record(result, frame.path, exc)
        frame.failed = True
        return []
    subdirs = []
    for name, is_dir, listed_ino in entries:
        if is_dir:
            subdirs.append((name, listed_ino))
            continue
        try:
            st = repair.call(_unlink_nondir, frame.fd, name)
        except FileNotFoundError:
            continue
        except OSError as exc:
            _record(result, os.path.join(frame.path, name), exc)
            frame.failed = True
            continue
        if st is None:
            subdirs.append((name, None))
            continue
        result.files += 1
        if stat.S_ISREG(st.st_mode):
            result.bytes += st.st_size
    return subdirs


class _OnceRepair(object):
    """Retries a call once after giving the owner rwx on a directory inside the tree."""

    def __init__(self, dir_fd):
        self._dir_fd = dir_fd
        self._repaired = False

    def call(self, function, *args):
        try:
            return function(*args)
        except PermissionError as denied:
            if self._repaired:
                raise
            # The test made this directory unwritable or unsearchable.
            try:
                os.fchmod(self._dir_fd, _REPAIRED_MODE)
            except OSError:
                raise denied from None  # not ours to repair: report why it failed
            self._repaired = True
            return function(*args)


def _unlink_nondir(dir_fd, name):
    """Unlink a non-directory and return its lstat; None if it is a directory."""
    st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    if stat.S_ISDIR(st.st_mode):
        return None
    os.unlink(name, dir_fd=dir_fd)
    return st


if os.scandir in os.supports_fd:
    def _list_dir(fd):
        """(name, is_dir, the inode the listing gives) for each entry of an open
        directory, links not followed."""
        with os.scandir(fd) as entries:
            return [(entry.name, entry.is_dir(follow_symlinks=False), entry.inode())
                    for entry in entries]
else:
    # Python 3.6: os.scandir() takes no fd, so list names and lstat each (an lstat
    # crosses a mount: no listed inode to tell one by).
    def _list_dir(fd):
        """(name, is_dir, None) for each entry of an open directory, links not followed."""
        listed = []
        for name in os.listdir(fd):
            try:
                mode = os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode
            except FileNotFoundError:
                continue
            listed.append((name, stat.S_ISDIR(mode), None))
        return listed


def _release(frame):
    """Close a frame's fd to bound open fds, remembering which directory it was."""
    st = os.fstat(frame.fd)
    frame.identity = inode_key(st)
    os.close(frame.fd)
    frame.fd = None


def _reopen_parent(child, parent, result):
    """Reopen a released parent through "..", refusing a directory that moved."""
    try:
        fd = os.open("..", DIR_FLAGS, dir_fd=child.fd)
    except OSError as exc:
        _record(result, parent.path, exc)
        return None
    st = os.fstat(fd)
    if inode_key(st) != parent.identity:
        os.close(fd)
        result.problems.append(CleanupProblem(
            parent.path, "directory was moved during cleanup; left in place"))
        return None
    return fd


def _rmdir(parent_fd, frame, result, parent_is_ours):
    """Remove an emptied directory; True if it is gone."""
    try:
        try:
            os.rmdir(frame.name, dir_fd=parent_fd)
        except PermissionError:
            if not parent_is_ours:
                raise
            os.fchmod(parent_fd, _REPAIRED_MODE)
            os.rmdir(frame.name, dir_fd=parent_fd)
    except FileNotFoundError:
        return True
    except OSError as exc:
        _record(result, frame.path, exc)
        return False
    result.dirs += 1
    return True


def _remove_by_path(top, result, expected=None):
    """Without fd functions (Windows): a walk by path that lstat-checks each entry,
    removes links and junctions as links, never enters another filesystem, and
    leaves *top* alone if it is no longer *expected* ((st_dev, st_ino)). A swap
    between a check and the act goes unseen: the reduced form docs/platforms.rst names."""
    try:
        st = os.lstat(top)
    except FileNotFoundError:
        return
    except OSError as exc:
        _record(result, top, exc)
        return
    if expected is not None and inode_key(st) != tuple(expected):
        result.problems.append(CleanupProblem(
            top, "replaced by another entry since it was seen; left alone", True))
        return
    stack = [(top, st, False)]
    device = st.st_dev
    while stack:
        current, st, listed = stack.pop()
        try:
            if listed:
                if inode_key(os.lstat(current)) != inode_key(st):
                    result.problems.append(CleanupProblem(
                        current, "replaced by another entry while it was emptied; left "
                                 "alone", True))
                    continue
                os.rmdir(current)
                result.dirs += 1
            elif not stat.S_ISDIR(st.st_mode) or is_link(st):
                os.unlink(current)
                result.files += 1
                if stat.S_ISREG(st.st_mode):
                    result.bytes += st.st_size
            elif st.st_dev != device:
                result.problems.append(CleanupProblem(
                    current, "another filesystem is mounted here; left alone"))
            else:
                stack.append((current, st, True))
                names = os.listdir(current)
                if inode_key(os.lstat(current)) != inode_key(st):
                    stack.pop()
                    result.problems.append(CleanupProblem(
                        current, "replaced by another entry while it was listed; left "
                                 "alone", True))
                    continue
                for name in names:
                    path = os.path.join(current, name)
                    try:
                        stack.append((path, os.lstat(path), False))
                    except FileNotFoundError:
                        pass
        except FileNotFoundError:
            continue
        except OSError as exc:
            if listed and exc.errno == errno.ENOTEMPTY and _in_use_below(result, current):
                continue  # said already, of what it holds
            _record(result, current, exc)


def _in_use_below(result, directory):
    """True if *result* says that something below *directory* is in use (see _record)."""
    inside = os.path.join(directory, "")
    return any(problem.in_use and problem.path.startswith(inside) for problem in result.problems)
