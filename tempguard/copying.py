"""Copies and sizes of trees that never follow a link or enter another filesystem: what
keeping a failed test's files is made of (see keep), as cleanup is for removal.

By descriptor where the platform has dir_fd, a level at a time on an explicit stack;
by path elsewhere (Windows), each entry lstat-ed first. Only regular files are
opened; a device node such as /dev/zero would fill the disk and /dev/kmsg block for
ever.
"""

import collections
import errno
import stat

from .real import os
from . import capabilities as _capabilities
from . import cleanup as _cleanup
from . import held as _held

__all__ = ["NotCopied", "copy_entry", "describe_special", "tree_bytes", "tree_files"]

# Levels of a copied tree held open at once (two fds each); deeper ones are reopened.
_MAX_HELD_LEVELS = 32


class NotCopied(collections.namedtuple("NotCopied", "path reason is_special")):
    """An entry left out of a kept copy: a special file (never opened), or a failure."""

    __slots__ = ()

    def __str__(self):
        return "%s: %s" % (self.path, self.reason)


def copy_entry(source, target):
    """Copy a file or tree as it is now, links as links; returns [NotCopied].

    Only regular files are opened: a device node such as /dev/zero would fill
    the disk and /dev/kmsg block for ever; FIFOs and sockets are left out too.
    A failure to copy comes first in the list. A source gone already (its
    owner removed it) is nothing to keep, and no failure. The walk holds a
    directory fd per level on an explicit stack, so depth is no limit (the
    recursion of shutil.copytree was: a tree 500 deep killed the test process),
    and it never enters another filesystem mounted in the tree.
    """
    if _held.BY_PATH:
        return _copy_by_path(os.fspath(source), target)
    parent, name = os.path.split(os.fspath(source))
    copy = _Copy()
    try:
        source_parent = os.open(parent or ".", _cleanup.DIR_FLAGS)
    except FileNotFoundError:
        return []
    except OSError as error:
        return [_failed(source, error)]
    try:
        target_parent = os.open(os.path.dirname(target) or ".", _cleanup.DIR_FLAGS)
    except OSError as error:
        os.close(source_parent)
        return [_failed(source, error)]
    try:
        copy.entry(source_parent, target_parent, name, os.path.basename(target), source)
    finally:
        os.close(source_parent)
        os.close(target_parent)
    return copy.failed + copy.special


def _copy_by_path(source, target):
    """copy_entry where directories are held by path (Windows): lstat before each step;
    a link or junction is copied as a link, never entered; a file is opened only if its
    lstat said regular, and copied only if it is still that file."""
    copy = _Copy()
    try:
        top = os.lstat(source)
    except FileNotFoundError:
        return []
    except OSError as error:
        return [_failed(source, error)]
    pending = [(source, target, top)]
    while pending:
        path, copied, st = pending.pop()
        try:
            if _cleanup.is_link(st):
                os.symlink(os.readlink(path), copied,
                           target_is_directory=stat.S_ISDIR(st.st_mode))
            elif stat.S_ISREG(st.st_mode):
                _copy_file_by_path(path, copied, st)
            elif not stat.S_ISDIR(st.st_mode):
                copy.special.append(NotCopied(path, "%s; never opened, not copied"
                                              % describe_special(st.st_mode), True))
            elif st.st_dev != top.st_dev:
                copy.special.append(NotCopied(path, "another filesystem is mounted here; "
                                                    "not copied", True))
            else:
                os.mkdir(copied, 0o700)
                names = os.listdir(path)
                if _cleanup.inode_key(os.lstat(path)) != _cleanup.inode_key(st):
                    raise OSError(errno.EAGAIN, "replaced while it was copied")
                for name in names:
                    child = os.path.join(path, name)
                    child_st = copy._lstat(None, child, child)
                    if child_st is not None:
                        pending.append((child, os.path.join(copied, name), child_st))
        except FileNotFoundError:
            continue
        except OSError as error:
            copy.failed.append(_failed(path, error))
    return copy.failed + copy.special


def _failed(path, error):
    return NotCopied(path, "not copied: %s" % (error.strerror or error), False)


class _Copy(object):
    """One copy_entry: what it left out, and the walk that copies a tree level by level."""

    def __init__(self):
        self.failed = []
        self.special = []

    def entry(self, source_fd, target_fd, name, target_name, path):
        """Copy the entry *name* of *source_fd* as *target_name* in *target_fd*."""
        st = self._lstat(source_fd, name, path)
        if st is None:
            return
        if stat.S_ISDIR(st.st_mode):
            self._tree(source_fd, target_fd, name, target_name, path)
        else:
            self._nondir(source_fd, target_fd, name, target_name, path, st)

    def _lstat(self, dir_fd, name, path):
        """lstat of *name* in *dir_fd*; None if it is gone or could not be read (said)."""
        try:
            return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            return None
        except OSError as error:
            self.failed.append(_failed(path, error))
            return None

    def _nondir(self, source_fd, target_fd, name, target_name, path, st):
        try:
            if stat.S_ISLNK(st.st_mode):
                os.symlink(os.readlink(name, dir_fd=source_fd), target_name, dir_fd=target_fd)
            elif stat.S_ISREG(st.st_mode):
                _copy_file(source_fd, target_fd, name, target_name, st)
            else:
                self.special.append(NotCopied(path, "%s; never opened, not copied"
                                              % describe_special(st.st_mode), True))
        except FileNotFoundError:
            return
        except OSError as error:
            self.failed.append(_failed(path, error))

    def _tree(self, source_fd, target_fd, name, target_name, path):
        """Copy a directory tree without recursion: one frame per level, as cleanup walks."""
        home = _cleanup.mount_of(source_fd)
        top = self._open_level(source_fd, target_fd, name, target_name, path, home)
        if top is None:
            return
        frames = [top]
        try:
            while frames:
                frame = frames[-1]
                if frame.subdirs is None:
                    frame.subdirs = self._copy_level(frame)
                if not frame.subdirs:
                    frames.pop()
                    if frames and frames[-1].source is None and not frames[-1].reopen(frame):
                        self.failed.append(NotCopied(frames[-1].path, "not copied: moved "
                                                     "while it was copied", False))
                        frames[-1].subdirs = []
                    frame.close()
                    continue
                child = frame.subdirs.pop()
                level = self._open_level(frame.source, frame.target, child, child,
                                         os.path.join(frame.path, child), home)
                if level is not None:
                    frames.append(level)
                    if len(frames) > _MAX_HELD_LEVELS:
                        frames[-1 - _MAX_HELD_LEVELS].release()
        finally:
            for frame in frames:
                frame.close()

    def _open_level(self, source_fd, target_fd, name, target_name, path, home):
        try:
            source = os.open(name, _cleanup.DIR_FLAGS, dir_fd=source_fd)
        except FileNotFoundError:
            return None
        except OSError as error:
            self.failed.append(_failed(path, error))
            return None
        if _cleanup.mount_of(source) != home:
            os.close(source)
            self.special.append(NotCopied(path, "another filesystem is mounted here; "
                                                "not copied", True))
            return None
        try:
            os.mkdir(target_name, 0o700, dir_fd=target_fd)
            target = os.open(target_name, _cleanup.DIR_FLAGS, dir_fd=target_fd)
        except OSError as error:
            os.close(source)
            self.failed.append(_failed(path, error))
            return None
        return _Level(source, target, path)

    def _copy_level(self, frame):
        """Copy the non-directories of one level; return its subdirectories' names."""
        try:
            names = os.listdir(frame.source)
        except OSError as error:
            self.failed.append(_failed(frame.path, error))
            return []
        subdirs = []
        for name in names:
            path = os.path.join(frame.path, name)
            st = self._lstat(frame.source, name, path)
            if st is None:
                continue
            if stat.S_ISDIR(st.st_mode):
                subdirs.append(name)
            else:
                self._nondir(frame.source, frame.target, name, name, path, st)
        return subdirs


class _Level(object):
    """One directory of a copy: its source and target held open, what is left to enter;
    released (closed, its identities noted) while the walk is deep below it."""

    __slots__ = ("source", "target", "path", "subdirs", "identities")

    def __init__(self, source, target, path):
        self.source, self.target, self.path = source, target, path
        self.subdirs = None
        self.identities = None

    def release(self):
        self.identities = (_cleanup.inode_key(os.fstat(self.source)),
                           _cleanup.inode_key(os.fstat(self.target)))
        self.close()

    def reopen(self, child):
        """Reopen through the child's "..": True if both are still the directories left."""
        fds = []
        try:
            for fd, identity in zip((child.source, child.target), self.identities):
                fds.append(os.open("..", _cleanup.DIR_FLAGS, dir_fd=fd))
                if _cleanup.inode_key(os.fstat(fds[-1])) != identity:
                    raise OSError(errno.ESTALE, "moved")
        except OSError:
            for fd in fds:
                os.close(fd)
            return False
        self.source, self.target = fds
        return True

    def close(self):
        if self.source is not None:
            os.close(self.source)
            os.close(self.target)
            self.source = self.target = None


def _copy_file(source_fd, target_fd, name, target_name, st):
    """Copy a regular file's bytes, mode and times; never opens anything else (the lstat
    said regular, and O_NOFOLLOW|O_NONBLOCK with an fstat check stops a swap)."""
    source = os.open(name, os.O_RDONLY | _capabilities.O_NOFOLLOW | _capabilities.O_NONBLOCK
                     | _capabilities.O_CLOEXEC, dir_fd=source_fd)
    try:
        if _cleanup.inode_key(os.fstat(source)) != _cleanup.inode_key(st):
            raise OSError(errno.EAGAIN, "replaced while it was copied")
        target = os.open(target_name, os.O_WRONLY | os.O_CREAT | os.O_EXCL
                         | _capabilities.O_NOFOLLOW | _capabilities.O_CLOEXEC, 0o600,
                         dir_fd=target_fd)
        try:
            _copy_bytes(source, target)
            os.fchmod(target, stat.S_IMODE(st.st_mode))
            os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
        finally:
            os.close(target)
    finally:
        os.close(source)


def _copy_file_by_path(path, copied, st):
    """_copy_file by path: opened in binary mode (Windows translates newlines otherwise),
    copied only if it is the file the lstat saw; the copy is a new file, never another's."""
    binary = getattr(os, "O_BINARY", 0)
    source = os.open(path, os.O_RDONLY | binary | getattr(os, "O_NOINHERIT", 0))
    try:
        if _cleanup.inode_key(os.fstat(source)) != _cleanup.inode_key(st):
            raise OSError(errno.EAGAIN, "replaced while it was copied")
        target = os.open(copied, os.O_WRONLY | os.O_CREAT | os.O_EXCL | binary, 0o600)
        try:
            _copy_bytes(source, target)
        finally:
            os.close(target)
    finally:
        os.close(source)
    os.chmod(copied, stat.S_IMODE(st.st_mode))
    os.utime(copied, ns=(st.st_atime_ns, st.st_mtime_ns))


def _copy_bytes(source, target):
    """Every byte of the descriptor *source* to *target*, short writes written on."""
    while True:
        chunk = os.read(source, 1 << 20)
        if not chunk:
            return
        view = memoryview(chunk)
        while view:
            view = view[os.write(target, view):]


def describe_special(mode):
    """What a special file is, in words ("a FIFO")."""
    for test, kind in ((stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return kind
    return "not a regular file"


def tree_bytes(path, dir_fd=None):
    """The bytes of the regular files at or under *path* (relative to *dir_fd*), links not
    followed; 0 where nothing is."""
    return sum(size for _path, size in tree_files(path, dir_fd))


def tree_files(path, dir_fd=None):
    """(path, bytes) of each entry that is not a directory at or under *path*; a regular
    file's bytes on disk, 0 for the rest. What is gone meanwhile is left out."""
    try:
        st = os.stat(path, dir_fd=dir_fd, follow_symlinks=False)
    except OSError:
        return
    if not stat.S_ISDIR(st.st_mode) or _cleanup.is_link(st):
        yield path, _stored_bytes(st)
        return
    if dir_fd is None and not hasattr(os, "fwalk"):  # Windows
        yield from _files_by_path(path)
        return
    try:
        for top, _dirs, files, top_fd in os.fwalk(path, dir_fd=dir_fd):
            for name in files:
                try:
                    st = os.stat(name, dir_fd=top_fd, follow_symlinks=False)
                except OSError:
                    continue
                yield os.path.join(top, name), _stored_bytes(st)
    except (OSError, RecursionError):  # os.fwalk recurses before 3.13
        return


def _files_by_path(path):
    """_files without fwalk: lstat each entry, never enter a link or a junction."""
    pending = [path]
    while pending:
        top = pending.pop()
        try:
            names = os.listdir(top)
        except OSError:
            continue
        for name in names:
            entry = os.path.join(top, name)
            try:
                st = os.lstat(entry)
            except OSError:
                continue
            if stat.S_ISDIR(st.st_mode) and not _cleanup.is_link(st):
                pending.append(entry)
            else:
                yield entry, _stored_bytes(st)


def _stored_bytes(st):
    """What a copy of a regular file takes on disk: a sparse 10 GB file is not 10 GB;
    0 for the rest."""
    if not stat.S_ISREG(st.st_mode):
        return 0
    blocks = getattr(st, "st_blocks", None)  # Windows has none
    return st.st_size if blocks is None else min(st.st_size, blocks * 512)
