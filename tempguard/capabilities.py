"""What this platform can do, found once: each feature reads it here and has a reduced form.

Like ``shutil.rmtree.avoids_symlink_attacks``, every answer is a plain value or a
small function, and nothing here fails to import on any CPython platform (Windows
has no fcntl, resource, fork or fd-relative calls; macOS and the BSDs no /proc).
``missing()`` says, for the one line a reduced run prints, what this platform lacks.
"""

import sys

from .real import os

__all__ = ["AUDIT_HOOKS", "CAN_GUARD", "FD_FUNCTIONS", "FLOCK", "FORK", "PROC", "dup_above",
           "fd_limit", "flock", "missing", "mount_id", "say_unguarded", "set_append",
           "set_fd_limit"]

try:
    import fcntl as _fcntl
except ImportError:  # Windows
    _fcntl = None
try:
    import resource as _resource
except ImportError:  # Windows
    _resource = None

# Directories held and walked by descriptor, never by path (see cleanup, held): the
# guard's sandbox, its listings and its removals rest on them.
FD_FUNCTIONS = ({os.open, os.stat, os.unlink, os.rmdir} <= os.supports_dir_fd
                and os.listdir in os.supports_fd and hasattr(os, "O_DIRECTORY")
                and hasattr(os, "O_NOFOLLOW"))
# The runner's supervisor forks the test process, and judges after it ends.
FORK = hasattr(os, "fork")
# Locks that tell a live run from a dead one.
FLOCK = _fcntl is not None and hasattr(_fcntl, "flock")
# /proc: children's temp dirs (environ), in-use checks, mount ids.
PROC = os.path.isdir("/proc/self/fd")
# Origins: the line that made each entry (PEP 578, Python 3.8+).
AUDIT_HOOKS = hasattr(sys, "addaudithook")

# The sandbox, its watch and its removals hold directories by descriptor: without
# them (Windows), tests run unguarded, the mixin's helpers still clean up, and a run
# says so once (say_unguarded).
CAN_GUARD = FD_FUNCTIONS

_FDINFO = "/proc/self/fdinfo/%d"
_said = []
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def missing():
    """What this platform lacks that a full guard uses, in words; empty on Linux."""
    lacks = []
    if not FD_FUNCTIONS:
        lacks.append("directory descriptors (dir_fd)")
    if not FORK:
        lacks.append("fork")
    if not PROC:
        lacks.append("/proc")
    return lacks


def say_unguarded(stream=None):
    """Say once per process, on *stream* (stderr), that this platform's tests run
    unguarded, and why."""
    if _said:
        return
    _said.append(True)
    (stream or sys.stderr).write(
        "tempguard: this platform lacks %s: tests run unguarded (no sandbox, no leak "
        "report; the mixin's helpers still clean up); see docs/platforms.rst\n"
        % " and ".join(missing()))


def flock(fd, operation):
    """fcntl.flock(fd, *operation*) where flock exists ("sh", "ex", "ex-nb", "un"); else
    nothing, and True. False when a non-blocking lock is held by another."""
    if not FLOCK:
        return True
    flags = {"sh": _fcntl.LOCK_SH, "ex": _fcntl.LOCK_EX,
             "ex-nb": _fcntl.LOCK_EX | _fcntl.LOCK_NB, "un": _fcntl.LOCK_UN}[operation]
    try:
        _fcntl.flock(fd, flags)
    except BlockingIOError:
        return False
    return True


def dup_above(fd, floor):
    """A close-on-exec duplicate of *fd* at *floor* or above (fcntl's F_DUPFD_CLOEXEC);
    raises OSError where it cannot be made, AttributeError where the call is missing."""
    if _fcntl is None or not hasattr(_fcntl, "F_DUPFD_CLOEXEC"):
        raise AttributeError("F_DUPFD_CLOEXEC")
    return _fcntl.fcntl(fd, _fcntl.F_DUPFD_CLOEXEC, floor)


def set_append(fd):
    """Every write to *fd* goes to its end (O_APPEND), as fcntl sets it."""
    _fcntl.fcntl(fd, _fcntl.F_SETFL, os.O_APPEND)


def fd_limit():
    """(soft, hard) limit of open descriptors, or None where there is none to read."""
    if _resource is None:
        return None
    return _resource.getrlimit(_resource.RLIMIT_NOFILE)


def set_fd_limit(soft, hard):
    _resource.setrlimit(_resource.RLIMIT_NOFILE, (soft, hard))


def mount_id(fd):
    """The id of the mount the open file *fd* is on, or None where it cannot be read.

    A bind mount of the same filesystem keeps st_dev, so only the mount id tells
    that a directory is a mount point (as systemd's rm_rf compares them). Linux
    shows it in /proc/self/fdinfo; without /proc, callers compare st_dev alone.
    """
    try:
        info = os.open(_FDINFO % fd, os.O_RDONLY | _O_CLOEXEC)
    except OSError:
        return None
    try:
        text = os.read(info, 4096)
    except OSError:
        return None
    finally:
        os.close(info)
    start = text.find(b"\nmnt_id:")
    if start < 0:
        return None
    return int(text[start + 8:text.index(b"\n", start + 1)])
