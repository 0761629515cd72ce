"""Which entries of a temp dir a live process is using, so that cleaning leaves them alone.

As systemd-tmpfiles does: a Unix socket bound by a live process, an entry
locked with flock (or a POSIX lock) by another process, and, from /proc, a
file or directory that a process holds open or has as its current directory.
A directory is in use when anything inside it is. /proc is read once per
scan, never once per entry. As root every process is seen; otherwise only
our own user's (the kernel hides the others' open files).
"""

import collections
import stat

from .real import os
from . import capabilities as _capabilities
from .cleanup import inode_key

__all__ = ["TEMP_DIR_VARIABLES", "InUse", "ancestors", "environ_getter", "environ_temp_dirs",
           "environ_users", "is_flocked", "is_running", "pids", "process_argv", "process_start",
           "process_state"]

_PROC = "/proc"
# The variables that name a process's temp dir (tempfile reads them in this order).
TEMP_DIR_VARIABLES = (b"TMPDIR", b"TEMP", b"TMP")


def environ_getter():
    """A get(bytes key) -> bytes value or None of this process's os.environ, whatever a
    test put there: sh's suite replaces it with a plain dict of str for good."""
    data = getattr(os.environ, "_data", None)
    if type(data) is dict:
        return data.get  # os._Environ on POSIX: its byte dict spares three decodes a call
    environ = os.environ

    def get(key):
        value = environ.get(os.fsdecode(key))
        return os.fsencode(value) if isinstance(value, (str, bytes)) else None
    return get


class InUse(object):
    """A snapshot of what running processes use; ask reason() of each candidate."""

    def __init__(self, proc=_PROC, environ=True):
        """Read /proc now; with *environ* False, a process's TMPDIR alone is no use."""
        self._environ = environ
        self.skipped = []
        self.blind = False  # no process's open files could be read: nothing is proven unused
        self._sockets = set()
        self._held = collections.defaultdict(set)   # path -> {"held open", ...}
        self._locked = None  # {(st_dev, inode)} from /proc/locks, if it could be read
        self._locked_devices = set()
        if not os.path.isdir(os.path.join(proc, "self")):
            self.skipped.append("open files, current directories, bound sockets and locks "
                                "inside directories (no %s)" % proc)
            self.blind = True
            return
        self._read_sockets(os.path.join(proc, "net", "unix"))
        self._read_processes(proc)
        self._read_locks(os.path.join(proc, "locks"))

    def _read_sockets(self, table):
        try:
            with open(table, "rb") as handle:
                next(handle, None)  # the header
                for line in handle:
                    fields = line.split(None, 7)
                    # Num RefCount Protocol Flags Type St Inode Path; abstract names start with @.
                    if len(fields) == 8 and not fields[7].startswith(b"@"):
                        self._sockets.add(os.fsdecode(fields[7].rstrip(b"\n")))
        except OSError:
            self.skipped.append("bound Unix sockets (%s unreadable)" % table)

    def _read_processes(self, proc):
        me = str(os.getpid())
        for pid in os.listdir(proc):
            if not pid.isdigit() or pid == me:
                continue
            self._note_link(os.path.join(proc, pid, "cwd"), "the current directory of pid "
                            + pid)
            for value in (_temp_dirs_of(os.path.join(proc, pid, "environ"))
                          if self._environ else ()):
                self._held[os.fsdecode(value)].add("the temp dir (TMPDIR) of pid " + pid)
            fd_dir = os.path.join(proc, pid, "fd")
            try:
                fds = os.listdir(fd_dir)
            except OSError:
                continue  # gone, or another user's and we are not root
            for fd in fds:
                self._note_link(os.path.join(fd_dir, fd), "held open by pid " + pid)

    def _note_link(self, link, why):
        try:
            target = os.readlink(link)
        except OSError:
            return
        if target.startswith("/"):
            self._held[target].add(why)

    def _read_locks(self, table):
        locked = set()
        try:
            with open(table) as handle:
                for line in handle:
                    # 1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF (a "->" marks a waiter)
                    fields = line.split()
                    if len(fields) < 6 or fields[1] == "->":
                        continue
                    major, minor, inode = fields[5].split(":")
                    if fields[4] != str(os.getpid()):
                        locked.add((os.makedev(int(major, 16), int(minor, 16)), int(inode)))
        except (OSError, ValueError):
            self.skipped.append("locks inside directories (%s unreadable)" % table)
            return
        self._locked = locked
        self._locked_devices = set(device for device, _inode in locked)

    def reasons_below(self, directory):
        """{top-level name in *directory*: reasons} for what is used in or below it."""
        prefix = directory.rstrip(os.sep) + os.sep
        below = collections.defaultdict(set)
        for path, why in self._held.items():
            if path.startswith(prefix):
                below[path[len(prefix):].split(os.sep, 1)[0]].update(why)
        for path in self._sockets:
            if path.startswith(prefix):
                below[path[len(prefix):].split(os.sep, 1)[0]].add("a Unix socket a live "
                                                                  "process is bound to")
        return below

    def uses(self, directory):
        """Why *directory*, or something in it, is in use; None if nothing is."""
        why = set(self._held.get(directory.rstrip(os.sep), ()))
        for reasons in self.reasons_below(directory).values():
            why.update(reasons)
        return "; ".join(sorted(why)) if why else None

    def reason(self, dir_fd, name, below, kind, device, inode):
        """Why the entry *name* of the open directory *dir_fd* is in use, or None.

        *below* is reasons_below() of that directory; *kind* (file, dir, link or
        other), *device* and *inode* are the entry's, as a scan saw them.
        """
        if kind == "link":
            return None  # a link is removed as a link; what it points to is not touched
        why = below.get(name)
        why = set(why) if why else set()
        if self._locked is None:
            # No /proc/locks: try the lock itself, as systemd-tmpfiles does.
            if is_flocked(dir_fd, name, kind):
                why.add("locked by another process")
        elif device in self._locked_devices:
            if (device, inode) in self._locked:
                why.add("locked by another process")
            elif kind == "dir" and _has_locked_inside(dir_fd, name, self._locked):
                why.add("something inside is locked by another process")
        return "; ".join(sorted(why)) if why else None


def is_flocked(dir_fd, name, kind):
    """True if another open file holds a flock on the entry *name* (of *dir_fd*, or a path
    if None): a non-blocking exclusive attempt, as systemd-tmpfiles makes. False if it
    cannot be tried (a socket, a pipe, a link, an unreadable entry)."""
    if kind not in ("dir", "file") or not _capabilities.FLOCK:
        return False
    flags = (os.O_RDONLY | _capabilities.O_NOFOLLOW | _capabilities.O_NONBLOCK
             | _capabilities.O_CLOEXEC | (_capabilities.O_DIRECTORY if kind == "dir" else 0))
    try:
        fd = os.open(name, flags, dir_fd=dir_fd)
    except OSError:
        return False
    try:
        return not _capabilities.flock(fd, "ex-nb")
    except OSError:
        return False
    finally:
        os.close(fd)  # closing our descriptor drops the lock we may have taken


def _has_locked_inside(dir_fd, name, locked):
    """True if anything below the directory is a locked inode, or if it is too deep to
    tell. Links are not followed; one open descriptor per level."""
    first = _open_frame(dir_fd, name, locked)
    if first is True:
        return True
    frames = [first]
    try:
        while frames:
            fd, subdirs = frames[-1]
            if not subdirs:
                frames.pop()
                if fd is not None:
                    os.close(fd)
                continue
            if len(frames) > _MAX_DEPTH:
                return True
            frame = _open_frame(fd, subdirs.pop(), locked)
            if frame is True:
                return True
            frames.append(frame)
        return False
    finally:
        for fd, _subdirs in frames:
            if fd is not None:
                os.close(fd)


_MAX_DEPTH = 256


def _open_frame(dir_fd, name, locked):
    """(fd, subdirectory names) of a directory entry; True if an entry in it is locked."""
    try:
        fd = os.open(name, os.O_RDONLY | _capabilities.O_DIRECTORY | _capabilities.O_NOFOLLOW,
                     dir_fd=dir_fd)
    except OSError:
        return None, []
    subdirs = []
    for entry in os.listdir(fd):
        try:
            st = os.stat(entry, dir_fd=fd, follow_symlinks=False)
        except OSError:
            continue
        if inode_key(st) in locked:
            os.close(fd)
            return True
        if stat.S_ISDIR(st.st_mode):
            subdirs.append(entry)
    return fd, subdirs


def _temp_dirs_of(environ_file):
    """The TMPDIR/TEMP/TMP values a process started with (bytes); none if unreadable."""
    try:
        with open(environ_file, "rb") as handle:
            variables = handle.read().split(b"\0")
    except OSError:
        return []
    return [value for key, _sep, value in (variable.partition(b"=") for variable in variables)
            if key in TEMP_DIR_VARIABLES and value]


def pids(proc=_PROC):
    """The pids (as names in /proc) of the processes now; empty without /proc."""
    try:
        return frozenset(os.listdir(proc))
    except OSError:
        return frozenset()


def environ_temp_dirs(proc=_PROC, older=frozenset(), now=None):
    """(pid, value) of each TMPDIR/TEMP/TMP of the live processes other than this one,
    and other than *older* (pids(), taken before the temp dir asked about was made:
    a process that already ran then did not start with it; a pid reused meanwhile
    goes unseen).

    A child of a test that still runs may write there: what a live process
    has as its temp dir is in use. Only processes whose environment we may
    read (our user's, or all as root); a process that changed its variables
    since it started shows the ones it started with. *now*: pids() just taken.
    """
    me = str(os.getpid())
    found = []
    for pid in (pids(proc) if now is None else now) - older:
        if not pid.isdigit() or pid == me:
            continue
        values = _temp_dirs_of(os.path.join(proc, pid, "environ"))
        if values and process_state(int(pid), proc) not in (None, "Z"):
            found.extend((int(pid), value) for value in values)
    return found


def environ_users(path, temp_dirs=None):
    """The pids among *temp_dirs* (default: environ_temp_dirs() now) whose temp dir is
    *path* or inside it."""
    prefix = os.fsencode(path.rstrip(os.sep))
    return [pid for pid, value in (environ_temp_dirs() if temp_dirs is None else temp_dirs)
            if value == prefix or value.startswith(prefix + b"/")]


def process_argv(pid, proc=_PROC):
    """A process's command line from /proc, as a list; None if it is gone."""
    try:
        with open(os.path.join(proc, str(pid), "cmdline"), "rb") as handle:
            return [os.fsdecode(arg) for arg in handle.read().split(b"\0")[:-1]]
    except OSError:
        return None


def process_state(pid, proc=_PROC):
    """A process's state letter from /proc (Z for a zombie), or None if it is gone.
    Without /proc (macOS, the BSDs), "?" for a process that kill(pid, 0) finds: a
    zombie cannot be told apart there."""
    fields = _stat_fields(pid, proc)
    if fields:
        return fields[0].decode()
    if os.path.isdir(os.path.join(proc, "self")) or _capabilities.pid_exists(pid) is False:
        return None
    return "?"


def is_running(pid, start=None):
    """True if process *pid* runs (a zombie does not), and, where start times can be read,
    is the one that started at *start* (see process_start), not a reuse of its pid."""
    if _capabilities.pid_exists(pid) is False:
        return False  # a signal-free probe: no such process, not even a zombie
    if process_state(pid) in (None, "Z"):
        return False
    current = process_start(pid) if start is not None else None
    return current is None or current == start


def process_start(pid, proc=_PROC):
    """The start time of a process in clock ticks, to tell a reused pid apart; None if it
    is gone."""
    fields = _stat_fields(pid, proc)
    try:
        return int(fields[19]) if fields else None
    except (IndexError, ValueError):
        return None


def ancestors(pid=None, proc=_PROC):
    """The pids of *pid*'s ancestors (this process's by default), its parent first.
    Without /proc (macOS, the BSDs), this process's parent alone is known."""
    if not os.path.isdir(os.path.join(proc, "self")):
        return [os.getppid()] if pid in (None, os.getpid()) and hasattr(os, "getppid") else []
    found, pid = [], os.getpid() if pid is None else pid
    while True:
        fields = _stat_fields(pid, proc)
        try:
            pid = int(fields[1]) if fields else 0
        except (IndexError, ValueError):
            pid = 0
        if pid <= 0 or pid in found:
            return found
        found.append(pid)


def _stat_fields(pid, proc):
    """The fields of /proc/<pid>/stat after the command name (which may hold spaces and
    parentheses), from the state on; None if the process is gone."""
    try:
        with open(os.path.join(proc, str(pid), "stat"), "rb") as handle:
            return handle.read().rsplit(b")", 1)[1].split() or None
    except (OSError, IndexError):
        return None
