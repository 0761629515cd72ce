"""Kept files: copies of what a failed test left, made without following a link.

Copied, not moved: code that still owns a leftover keeps using it; the kept
directory shows it as it was when the test ended. What cannot be copied (a
full disk, an unreadable directory) is moved there once it is confirmed;
what is not kept at all is said, in the record and beside the copies.
"""

import collections
import errno
import stat

from .real import os
from . import capabilities as _capabilities
from . import cleanup as _cleanup
from . import held as _held
from . import ownership as _ownership
from .output import display

__all__ = ["NOT_KEPT_NOTE", "NotCopied", "copy_entry", "move_into_kept", "note_not_kept"]

# In a kept directory: what could not be copied there, and why.
NOT_KEPT_NOTE = "tempguard-not-kept.txt"
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
                                              % _special(st.st_mode), True))
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
                                              % _special(st.st_mode), True))
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
            while True:
                chunk = os.read(source, 1 << 20)
                if not chunk:
                    break
                view = memoryview(chunk)
                while view:
                    view = view[os.write(target, view):]
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
            while True:
                chunk = os.read(source, 1 << 20)
                if not chunk:
                    break
                view = memoryview(chunk)
                while view:
                    view = view[os.write(target, view):]
        finally:
            os.close(target)
    finally:
        os.close(source)
    os.chmod(copied, stat.S_IMODE(st.st_mode))
    os.utime(copied, ns=(st.st_atime_ns, st.st_mtime_ns))


def _special(mode):
    for test, kind in ((stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return kind
    return "not a regular file"


def note_not_kept(kept, not_kept):
    """List what was not copied in the kept directory itself, beside the copies."""
    if not not_kept:
        return
    fd = os.open(os.path.join(kept, NOT_KEPT_NOTE),
                 os.O_WRONLY | os.O_CREAT | os.O_EXCL | _capabilities.O_NOFOLLOW, 0o600)
    with open(fd, "w") as handle:
        handle.write("".join("%s\n" % display(str(item)) for item in not_kept))


def move_into_kept(candidate, kept):
    """Move a confirmed leftover into the kept directory *kept* (path, identity) it
    could not be copied into; True if nothing is left to remove."""
    kept_path, kept_identity = kept
    try:
        held = _held.HeldDirectory(kept_path)
    except OSError as error:
        return _not_moved(candidate, error.strerror or str(error))
    try:
        if held.identity != tuple(kept_identity):
            return _not_moved(candidate, "its kept directory was replaced")
        st = candidate.place.stat(candidate.name)
        if st is None or _cleanup.inode_key(st) != candidate.identity:
            _drop_if_empty(kept_path, candidate.record)
            return False  # gone or replaced: the removal says which
        if not _is_keepable(st.st_mode):
            _drop_if_empty(kept_path, candidate.record)
            candidate.record.not_kept.append("%s: %s; never kept" % (
                _ownership.candidate_path(candidate), _special(st.st_mode)))
            return False
        source, source_at = candidate.place.place(candidate.name)
        target, target_at = held.place(candidate.name)
        os.rename(source, target, src_dir_fd=source_at.get("dir_fd"),
                  dst_dir_fd=target_at.get("dir_fd"))
        if stat.S_ISDIR(st.st_mode):
            _drop_special_files(os.path.join(kept_path, candidate.name), candidate.record)
        return True
    except OSError as error:
        # Another filesystem (a --keep-dir), say: no empty kept dir claims otherwise.
        _drop_if_empty(kept_path, candidate.record)
        return _not_moved(candidate, error.strerror or str(error))
    finally:
        held.close()


def _is_keepable(mode):
    return stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode)


def _drop_special_files(moved, record):
    """Remove what a moved tree holds that is never kept (device nodes, FIFOs, sockets),
    and say so: the move takes a whole tree, the copy would have left them out."""
    try:
        for top, dirs, files in os.walk(moved):
            for name in dirs + files:
                path = os.path.join(top, name)
                mode = os.lstat(path).st_mode
                if name in dirs and _cleanup.is_link_at(path):
                    dirs.remove(name)  # a junction (os.walk enters one before 3.12)
                elif not _is_keepable(mode):
                    _cleanup.remove_paths([path])
                    record.not_kept.append("%s: %s; never kept, removed" % (
                        path, _special(mode)))
    except (OSError, RecursionError) as error:
        record.not_kept.append("%s: not checked for device nodes, FIFOs and sockets (%s)"
                               % (moved, getattr(error, "strerror", None) or error))


def _drop_if_empty(kept_path, record):
    """The kept directory waited for a leftover that is gone: if nothing else is kept
    there, it goes, and the record no longer names it (no empty dir claims otherwise)."""
    try:
        os.rmdir(kept_path)
    except OSError:
        return  # something is kept there, or it is gone: either way it stays as it is
    if record.kept == kept_path:
        record.kept = None


def _not_moved(candidate, reason):
    candidate.record.not_kept.append("%s: not kept: could not be copied, nor moved (%s)"
                                     % (_ownership.candidate_path(candidate), reason))
    return False
