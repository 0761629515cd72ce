"""What this platform can do, found once: each feature reads it here and has a reduced form.

Like ``shutil.rmtree.avoids_symlink_attacks``, every answer is a plain value or a
small function, and nothing here fails to import on any CPython platform (Windows
has no fcntl, resource, fork or fd-relative calls; macOS and the BSDs no /proc).
``missing()`` says, for the one line a reduced run prints, what this platform lacks.
"""

import signal
import sys

from .real import os

__all__ = ["AUDIT_HOOKS", "CHILD_DIRS", "FD_FUNCTIONS", "FLOCK", "FORK", "OWNERS", "O_CLOEXEC",
           "O_DIRECTORY", "O_NOFOLLOW", "O_NONBLOCK", "PROC", "dup_above", "euid", "fd_limit",
           "flock", "missing", "mount_id", "pid_exists", "posix_subprocess", "reduced",
           "say_reduced", "set_append", "set_fd_limit"]

try:
    import fcntl as _fcntl
except ImportError:  # Windows
    _fcntl = None
try:
    import resource as _resource
except ImportError:  # Windows
    _resource = None
try:
    import _winapi
except ImportError:  # not Windows
    _winapi = None
try:
    import _posixsubprocess as posix_subprocess
except ImportError:  # Windows: subprocess starts processes with CreateProcess
    posix_subprocess = None

# Directories held and walked by descriptor, never by path (see cleanup, held): the
# guard's sandbox, its listings and its removals rest on them.
FD_FUNCTIONS = ({os.open, os.stat, os.unlink, os.rmdir} <= os.supports_dir_fd
                and os.listdir in os.supports_fd and hasattr(os, "O_DIRECTORY")
                and hasattr(os, "O_NOFOLLOW"))
# The runner's supervisor forks the test process, and judges after it ends.
FORK = hasattr(os, "fork")
# Children get temp dirs of their starter's own where tempguard can wrap how processes
# start (fork, posix_spawn, subprocess's fork_exec); elsewhere they share the sandbox.
CHILD_DIRS = FORK or posix_subprocess is not None or hasattr(os, "posix_spawn")
# Locks that tell a live run from a dead one.
FLOCK = _fcntl is not None and hasattr(_fcntl, "flock")
# /proc: children's temp dirs (environ), in-use checks, mount ids.
PROC = os.path.isdir("/proc/self/fd")
# Owners and private modes: Windows has no uids (st_uid is 0), and its mode bits do not
# say who may enter a directory (its temp dir is the user's own profile's).
OWNERS = hasattr(os, "geteuid")
# kill(pid, 0) probes a pid on POSIX; on Windows signal 0 is CTRL_C_EVENT, sent to a
# whole console process group: never a probe there.
_KILL_PROBES = not hasattr(signal, "CTRL_C_EVENT")
# Origins: the line that made each entry (PEP 578, Python 3.8+).
AUDIT_HOOKS = hasattr(sys, "addaudithook")


# Open flags, 0 where the platform lacks them (Windows has none of these: its
# descriptors are not inherited unless asked, and it has no links to follow in open).
O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)

_FDINFO = "/proc/self/fdinfo/%d"
_said = []


def missing():
    """What this platform lacks that a full guard uses, in words; empty on Linux."""
    lacks = []
    if not FD_FUNCTIONS:
        lacks.append("dir_fd")
    if not FORK:
        lacks.append("fork")
    if not PROC:
        lacks.append("/proc")
    return lacks


def reduced():
    """What a guarded run does less here than on Linux, in words; empty on Linux."""
    less = []
    if not FD_FUNCTIONS:
        less.append("temp files are removed and kept by path")
    if not FORK:
        less.append("the runner judges in the test process (a test that kills it loses "
                    "the report)")
    if not CHILD_DIRS:
        less.append("children's files are their starter's only while it runs")
    if not PROC:
        less.append("in-use checks and mount ids are not available")
    return less


def say_reduced(stream=None):
    """Say once per process, on *stream* (stderr), in one line, what a guarded run does
    less on this platform, and why; nothing on Linux."""
    less = reduced()
    if _said or not less:
        return
    _said.append(True)
    lacks = missing()
    lacks = ", ".join(lacks[:-1]) + " or " + lacks[-1] if len(lacks) > 1 else lacks[0]
    (stream or sys.stderr).write("tempguard: this platform has no %s: %s; see "
                                 "docs/platforms.rst\n" % (lacks, "; ".join(less)))


def euid():
    """This process's effective uid; 0 where there are none (Windows's st_uid is 0)."""
    return os.geteuid() if OWNERS else 0


def pid_exists(pid):
    """True if process *pid* exists (a zombie too), False if not, None where it cannot
    be told: callers take None as alive, and remove nothing."""
    if not _KILL_PROBES:
        return _windows_pid_exists(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's, and running
    return True


def _windows_pid_exists(pid):
    """pid_exists on Windows: OpenProcess fails with ERROR_INVALID_PARAMETER (87) where
    there is no such process; one that has exited but is still held open gives its exit
    code, not STILL_ACTIVE (259)."""
    if _winapi is None:
        return None
    try:
        handle = _winapi.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    except OSError as error:
        return False if getattr(error, "winerror", None) == 87 else None
    try:
        return _winapi.GetExitCodeProcess(handle) == 259
    finally:
        _winapi.CloseHandle(handle)


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
        info = os.open(_FDINFO % fd, os.O_RDONLY | O_CLOEXEC)
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
