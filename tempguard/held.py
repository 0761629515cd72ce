"""Descriptors tempguard holds: directories held by fd and checked before each use.

A test shares the process's descriptor table: it may close a descriptor of
ours, reuse its number, lower the fd limit or change the umask. What is held
here is moved out of the way (high numbers, close-on-exec) and checked to
still be what was opened before anything is done through it.
"""

import contextlib
import errno
import stat
import sys
import tempfile

from .real import mkstemp, os
from . import capabilities as _capabilities
from .cleanup import (DIR_FLAGS, CleanupProblem, CleanupResult, inode_key, is_link,
                      remove_entries)
from .errors import HandleLostError

__all__ = ["BY_PATH", "HeldDirectory", "anonymous_file", "fd_headroom", "high_fd", "holds",
           "locked", "locked_directory", "new_subdir", "own_umask"]

# Without the fd functions (Windows), a directory is held by its path and identity,
# checked before each use: a swap between the check and the use goes unseen there.
BY_PATH = not _capabilities.FD_FUNCTIONS

# Held descriptors sit high, where the lowest free fd a test sees is unittest's, and
# out of reach of the usual closerange(3, N) of a daemonizing test (identity checks
# catch the rest). Capped: a fork copies the fd table up to the highest fd.
_HIGH_FD_FLOOR = max(3, min((_capabilities.fd_limit() or (1024,))[0], 1024) - 256)


# Bytes of a name made from a test id: NAME_MAX is 255, and room is left for "-N".
_NAME_BYTES = 200
_UTF8_NAMES = sys.getfilesystemencoding().lower().replace("-", "") == "utf8"


class HeldDirectory(object):
    """A directory held by its file descriptor: listed and emptied through it, never by path.

    A test may swap the path for a link to somewhere else; the descriptor still
    names the directory that was opened, and is_replaced() tells that the path
    no longer does. A test may also close the descriptor and open something
    else at its number (a daemonizing test closes every fd from 3 up), so the
    descriptor is checked to still be the directory before each use.

    Without the fd functions (BY_PATH: Windows) it is held by path: each use
    first checks that the path still leads to the directory held, not through
    a link or junction, and acts through place(name), a path.
    """

    def __init__(self, path, parent=None, lock=False):
        """Open *path* (a name in the HeldDirectory *parent*, if given) without following a
        link; with *lock*, hold a shared flock on it for as long as it is held."""
        self.path = os.fspath(path)
        self._lock = lock
        self._closed = False
        if BY_PATH:
            self._fd = None
            st = os.lstat(self.path)
            if is_link(st) or not stat.S_ISDIR(st.st_mode):
                raise NotADirectoryError(errno.ENOTDIR, "not a real directory", self.path)
        else:
            name, at = (os.path.basename(self.path), parent.place(".")[1]) if parent else (
                self.path, {})
            self._fd = high_fd(os.open(name, DIR_FLAGS, **at))
            st = os.fstat(self._fd)
        self.identity = inode_key(st)
        self.uid = st.st_uid
        if lock and not BY_PATH:
            _capabilities.flock(self._fd, "sh")

    @property
    def closed(self):
        """True once close() let go of the directory."""
        return self._closed

    def place(self, name):
        """(target, keywords) that name the entry *name* here for an os call:
        ``os.mkdir(target, **keywords)``. By descriptor, the name and dir_fd; by path,
        the entry's path, once the path is checked to lead to the directory held."""
        if not BY_PATH:
            return name, {"dir_fd": self.fd}
        self._check_path()
        return (self.path if name == "." else os.path.join(self.path, name)), {}

    @contextlib.contextmanager
    def locked(self):
        """While this directory is flocked exclusively (see locked). Held by path (Windows:
        no flock either), while its path is checked to lead to it: the processes of a
        parallel run may interleave there."""
        if BY_PATH:
            self._check_path()
            yield self
            return
        with locked(self.fd):
            yield self

    def replace(self, old, new):
        """os.replace of the entry *old* here by the name *new* here."""
        old, at = self.place(old)
        new = self.place(new)[0]
        if BY_PATH:
            os.replace(old, new)
        else:
            os.replace(old, new, src_dir_fd=at["dir_fd"], dst_dir_fd=at["dir_fd"])

    def _check_path(self):
        """The path's lstat, once it is checked to lead to the directory held (by path)."""
        if self._closed:
            raise HandleLostError(errno.EBADF, "%s is no longer held" % self.path, self.path)
        st = self._path_stat()
        if st is None:
            raise HandleLostError(errno.EBADF, "%s was replaced or removed by a test; nothing "
                                  "was done there" % self.path, self.path)
        return st

    @property
    def fd(self):
        """The descriptor, checked to still be the directory held; None once closed.

        Raises HandleLostError when it is not, and the path no longer leads to
        the same directory either; RuntimeError when held by path (see place).
        """
        if BY_PATH:
            raise RuntimeError("%s is held by path: this platform has no dir_fd" % self.path)
        if self._fd is None:
            return None
        if self._holds(self._fd):
            return self._fd
        self._fd = self._reopen()  # the old number is somebody else's now: never closed
        return self._fd

    def fstat(self):
        """fstat of the held directory, through its checked descriptor (see fd)."""
        if BY_PATH:
            return self._check_path()
        if self._fd is not None:
            try:
                st = os.fstat(self._fd)
            except OSError:
                st = None
            # inode_key(st), written out: this runs twice a test.
            if st is not None and (st.st_dev, st.st_ino) == self.identity:
                return st
        return os.fstat(self.fd)

    def _holds(self, fd):
        return holds(fd, self.identity)

    def _reopen(self):
        """A new descriptor by path, only if the path still leads to the directory held."""
        try:
            fd = high_fd(os.open(self.path, DIR_FLAGS))
        except OSError:
            raise HandleLostError(errno.EBADF, self._lost_message(), self.path) from None
        if not self._holds(fd):
            os.close(fd)
            raise HandleLostError(errno.EBADF, self._lost_message(), self.path)
        if self._lock:
            _capabilities.flock(fd, "sh")
        return fd

    def _lost_message(self):
        return ("a test closed tempguard's handle of %s and the path no longer leads to it; "
                "nothing was done there" % self.path)

    def is_replaced(self):
        """True when the path no longer names the directory held (gone, moved, or a link)."""
        return self._path_stat() is None

    def _path_stat(self):
        """lstat of the path if it still names the directory held, not a link; else None."""
        try:
            st = os.lstat(self.path)
        except OSError:
            return None
        return None if inode_key(st) != self.identity or is_link(st) else st

    def names(self):
        """The entries, listed through the descriptor."""
        target, at = self.place(".")
        return os.listdir(target if BY_PATH else at["dir_fd"])

    def stat(self, name):
        """lstat of an entry, or None if it is gone."""
        return self.stats([name])[0]

    def stats(self, names):
        """lstat of each entry (None where it is gone), the descriptor checked once."""
        if not names:
            return []
        target, at = self.place(".")
        if BY_PATH:
            prefix = os.path.join(target, "")

            def lstat(name):
                return os.lstat(prefix + name)
        else:
            fd = at["dir_fd"]

            def lstat(name):
                return os.stat(name, dir_fd=fd, follow_symlinks=False)
        found = []
        for name in names:
            try:
                found.append(lstat(name))
            except FileNotFoundError:
                found.append(None)
        return found

    def remove(self, entries):
        """Remove entries given as (name, (st_dev, st_ino) or None), never through the path.

        An entry that is no longer the one identified is left alone and reported;
        so is everything, when the directory is no longer at hand (see fd).
        """
        try:
            fd = None if BY_PATH else self.fd
            if BY_PATH:
                self._check_path()
        except HandleLostError as lost:
            result = CleanupResult()
            result.problems.append(CleanupProblem(self.path, lost.strerror))
            return result
        return remove_entries(fd, self.path, entries)

    def empty(self):
        """Remove everything inside the held directory."""
        try:
            names = self.names()
        except OSError as exc:
            result = CleanupResult()
            result.problems.append(CleanupProblem(self.path, exc.strerror or str(exc)))
            return result
        return self.remove([(name, None) for name in names])

    def close(self):
        """Let go of the descriptor; one a test closed and reused stays the test's."""
        self._closed = True
        if self._fd is not None:
            if self._holds(self._fd):
                os.close(self._fd)
            self._fd = None


def new_subdir(held, name):
    """A new directory in *held* named after *name* (a test id) made safe, numbered if the
    name is taken; its path."""
    base = _cut_to_bytes("".join(c if c.isalnum() or c in "._-" else "_" for c in name),
                         _NAME_BYTES) or "test"
    candidate, number = base, 1
    with own_umask():
        while True:
            target, at = held.place(candidate)
            try:
                os.mkdir(target, 0o700, **at)
                return os.path.join(held.path, candidate)
            except FileExistsError:
                number += 1
                candidate = "%s-%d" % (base, number)


def _cut_to_bytes(name, limit):
    """*name* cut to at most *limit* bytes as the file system stores it, never mid-character
    (150 Arabic letters are 300 bytes: past NAME_MAX, so nothing was kept)."""
    encoded = os.fsencode(name)
    if len(encoded) <= limit:
        return name
    return encoded[:limit].decode("utf-8", "ignore") if _UTF8_NAMES else name[:limit // 4]


def holds(fd, identity):
    """True if *fd* is still the file whose (st_dev, st_ino) is *identity*: a test may
    have closed it, or reused its number for a file of its own."""
    try:
        st = os.fstat(fd)
    except OSError:
        return False
    return inode_key(st) == identity


@contextlib.contextmanager
def locked(fd):
    """While the directory (or file) *fd* is flocked exclusively: the processes of a
    parallel run take turns writing what they share there."""
    _capabilities.flock(fd, "ex")
    try:
        yield fd
    finally:
        _capabilities.flock(fd, "un")


@contextlib.contextmanager
def locked_directory(path):
    """The directory at *path*, opened and flocked exclusively while in use (see locked);
    None, unlocked, where there is no flock (Windows: nor can a directory be opened)."""
    if not _capabilities.FLOCK:
        yield None
        return
    # As before the platform work: a directory the user named may be a link to follow.
    fd = os.open(path, os.O_RDONLY | _capabilities.O_DIRECTORY | _capabilities.O_CLOEXEC)
    try:
        with locked(fd):
            yield fd
    finally:
        os.close(fd)


@contextlib.contextmanager
def own_umask():
    """While tempguard makes its own files and dirs: the modes it asks for, whatever
    umask a test left (under 0o777 a kept dir would be mode 000, unusable)."""
    previous = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(previous)


@contextlib.contextmanager
def fd_headroom():
    """At exit: the fd limit raised to its hard limit, if a test lowered it to what it holds
    (listing a directory needs a new descriptor)."""
    soft, hard = _capabilities.fd_limit() or (None, None)
    if soft != hard:
        try:
            _capabilities.set_fd_limit(hard, hard)
        except (OSError, ValueError):
            soft = hard
    try:
        yield
    finally:
        if soft != hard:
            _capabilities.set_fd_limit(soft, hard)


def high_fd(fd):
    """*fd*, moved to a high number (see _HIGH_FD_FLOOR), close-on-exec."""
    try:
        high = _capabilities.dup_above(fd, _HIGH_FD_FLOOR)
    except AttributeError:
        return fd  # Windows: no F_DUPFD_CLOEXEC, and O_CLOEXEC is its default
    except OSError:
        # A test lowered the fd limit under the floor (EINVAL) or to what is open (EMFILE).
        return fd if fd > 2 else _dup_above_stdio(fd)
    os.close(fd)
    return high


def _dup_above_stdio(fd):
    """Tests close and dup2 over stdio: a directory held as fd 0 would then be swapped."""
    try:
        return _capabilities.dup_above(fd, 3)
    finally:
        os.close(fd)


def anonymous_file():
    """A new file with no name (close-on-exec), in memory where the system has memfds: the
    hand-off channel, the fork log."""
    try:
        return os.memfd_create("tempguard", os.MFD_CLOEXEC)
    except AttributeError:
        return _libc_memfd()
    except OSError:
        return _unlinked_file()


def _libc_memfd():
    try:
        import ctypes  # only here: Python 3.6 and 3.7 have no os.memfd_create
        libc = ctypes.CDLL(None, use_errno=True)
        fd = libc.memfd_create(b"tempguard", 1)  # MFD_CLOEXEC
    except (OSError, AttributeError):
        fd = -1
    return fd if fd >= 0 else _unlinked_file()


def _unlinked_file():
    """Where there are no memfds: a file in the temp dir, unlinked at once."""
    saved = tempfile.tempdir
    try:
        directory = tempfile.gettempdir()
    finally:
        tempfile.tempdir = saved  # gettempdir() keeps what it found: the user's stays unset
    fd, path = mkstemp(prefix="tempguard-", dir=directory)
    os.unlink(path)
    return fd
