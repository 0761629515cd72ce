"""Simulates CPython on Windows for tempguard's windows-like test leg: put this folder first
on PYTHONPATH. What Windows lacks is hidden, and what it refuses raises as it does there.

Hidden: the POSIX-only modules fcntl, resource, pwd and grp; os.fork and the other
process-group, uid and fd-only calls Windows lacks; O_NOFOLLOW and O_DIRECTORY;
memfd_create (here and from ctypes). os.supports_dir_fd is emptied and os.supports_fd
reduced, os.scandir and os.listdir of a descriptor raise TypeError, any dir_fd= raises
NotImplementedError, and os.open of a directory raises PermissionError. A link to a
directory stands for a junction: os.lstat calls it a directory with the reparse-point
attribute, as Windows does. A regular file this process has open (by os.open or open)
cannot be unlinked: PermissionError, winerror 32, as Windows refuses. os.kill(pid, 0) fails loudly: on Windows signal 0 is
CTRL_C_EVENT (signal has it, as there), Ctrl-C to a whole process group; processes are
probed through _winapi.OpenProcess instead.
shutil may have been imported already: it is told to walk by path. _posixsubprocess, which
Windows lacks, is hidden once subprocess has taken the fork_exec it needs here. pytest asks
sys.platform, not os, whether there are uids: it is told there are none, as on win32.
"""

import builtins
import functools
import io
import os
import signal
import stat
import sys
import types

for _name in ("fcntl", "resource", "pwd", "grp"):
    sys.modules[_name] = None

for _name in ("fork", "forkpty", "getuid", "geteuid", "getgid", "getegid", "setsid", "killpg",
              "getpgid", "setpgid", "getpgrp", "tcgetpgrp", "O_NOFOLLOW", "O_DIRECTORY",
              "O_PATH", "O_CLOEXEC", "O_NONBLOCK", "O_NOCTTY", "posix_spawn", "posix_spawnp",
              "fchown", "lchown", "mkfifo", "mknod", "pread", "pwrite", "wait3", "wait4",
              "fwalk", "sync"):
    if hasattr(os, _name):
        delattr(os, _name)

os.supports_dir_fd.clear()
os.supports_fd.intersection_update({os.stat, os.truncate} & os.supports_fd)
os.supports_follow_symlinks.intersection_update({os.stat} & os.supports_follow_symlinks)


# The replacements are partials, not functions: like the builtins they stand for, they
# do not become methods where a class stores them (3.7's pathlib keeps os.stat so). Their
# code is compiled as if it were the standard library's, whose frames origins skip: on
# Windows these calls are C, with no frame of their own.
_WRAPPERS = """
def _refuse_dir_fd(function, *args, **kwargs):
    if kwargs.get("dir_fd") is not None or kwargs.get("src_dir_fd") is not None \\
            or kwargs.get("dst_dir_fd") is not None:
        raise NotImplementedError("dir_fd unavailable on this platform")
    return function(*args, **kwargs)


def _refuse_fd_listing(function, path=".", *args, **kwargs):
    if isinstance(path, int):
        raise TypeError("%s: path should be string, bytes or os.PathLike, not int"
                        % function.__name__)
    return function(path, *args, **kwargs)


def _no_directory_open(function, path, flags, *args, **kwargs):
    fd = function(path, flags, *args, **kwargs)
    st = os.fstat(fd)
    if stat.S_ISDIR(st.st_mode):
        os.close(fd)
        raise PermissionError(13, "Permission denied", path)  # as Windows refuses
    _open_files[fd] = (st.st_dev, st.st_ino)
    return fd


def _recorded_open(function, *args, **kwargs):
    opened = function(*args, **kwargs)
    try:
        fd = opened.fileno()
        st = os.fstat(fd)
    except (AttributeError, OSError, ValueError):
        return opened
    _open_files[fd] = (st.st_dev, st.st_ino)
    return opened


def _is_open(identity):
    # Whether a descriptor of this process has the file open; those closed since are
    # forgotten (closed, or reused for another file).
    for fd, opened in list(_open_files.items()):
        try:
            st = os.fstat(fd)
        except OSError:
            st = None
        if st is None or (st.st_dev, st.st_ino) != opened:
            _open_files.pop(fd, None)
        elif opened == identity:
            return True
    return False


def _refuse_open_file(function, path, *args, **kwargs):
    # Windows refuses to remove a file that is open (opened without FILE_SHARE_DELETE,
    # as Python opens files): ERROR_SHARING_VIOLATION.
    if kwargs.get("dir_fd") is None:
        try:
            st = os.lstat(path)
        except (OSError, TypeError, ValueError):
            st = None
        if st is not None and stat.S_ISREG(st.st_mode) and _is_open((st.st_dev, st.st_ino)):
            error = PermissionError(13, "The process cannot access the file because it is "
                                        "being used by another process", path)
            error.winerror = 32
            raise error
    return function(path, *args, **kwargs)


class _JunctionStat(object):
    # lstat of a junction as Windows gives it: a directory, with the reparse-point
    # attribute (a link to a directory stands for one here).

    def __init__(self, st):
        for name in dir(st):
            if name.startswith("st_"):
                setattr(self, name, getattr(st, name))
        self.st_mode = stat.S_IFDIR | 0o777
        self.st_file_attributes = 0x410  # FILE_ATTRIBUTE_DIRECTORY | _REPARSE_POINT
        self.st_reparse_tag = 0xA0000003  # IO_REPARSE_TAG_MOUNT_POINT


def _lstat(function, path, *args, **kwargs):
    st = function(path, *args, **kwargs)
    if stat.S_ISLNK(st.st_mode) and os.path.isdir(path):
        return _JunctionStat(st)
    return st


def _open_process(kill, access, inherit, pid):
    # _winapi.OpenProcess, for its pid probe: fails with ERROR_INVALID_PARAMETER where
    # there is no such process. The handle is the pid.
    try:
        kill(pid, 0)
    except ProcessLookupError:
        error = OSError(22, "The parameter is incorrect")
        error.winerror = 87
        raise error
    except PermissionError:
        pass
    return pid


def _exit_code_of(handle):
    return 259  # STILL_ACTIVE: the process was there when it was opened


def _kill(function, pid, signum):
    if signum == 0:  # CTRL_C_EVENT: Ctrl-C to a whole console process group
        raise AssertionError("os.kill(%d, 0) sends CTRL_C_EVENT on Windows" % pid)
    return function(pid, signum)
"""
_wrappers = {"os": os, "stat": stat, "_open_files": {}}
exec(compile(_WRAPPERS, os.path.join(os.path.dirname(os.__file__), "_windows_like.py"), "exec"),
     _wrappers)
signal.CTRL_C_EVENT, signal.CTRL_BREAK_EVENT = 0, 1
# What tempguard asks _winapi (pid probes: see capabilities.pid_exists); nothing else, so
# that multiprocessing, which imports names it lacks, goes on as on POSIX.
_winapi = types.ModuleType("_winapi")
_winapi.OpenProcess = functools.partial(_wrappers["_open_process"], os.kill)
_winapi.GetExitCodeProcess = _wrappers["_exit_code_of"]
_winapi.CloseHandle = int
sys.modules["_winapi"] = _winapi
os.kill = functools.partial(_wrappers["_kill"], os.kill)

os.open = functools.partial(_wrappers["_no_directory_open"], os.open)
for _name in ("open", "stat", "lstat", "unlink", "remove", "rmdir", "mkdir", "rename",
              "replace", "chmod", "chown", "readlink", "symlink", "link", "utime", "access"):
    if hasattr(os, _name):
        setattr(os, _name, functools.partial(_wrappers["_refuse_dir_fd"], getattr(os, _name)))
os.lstat = functools.partial(_wrappers["_lstat"], os.lstat)
for _name in ("unlink", "remove"):
    setattr(os, _name, functools.partial(_wrappers["_refuse_open_file"], getattr(os, _name)))
builtins.open = io.open = functools.partial(_wrappers["_recorded_open"], io.open)
for _name in ("scandir", "listdir"):
    setattr(os, _name, functools.partial(_wrappers["_refuse_fd_listing"], getattr(os, _name)))

import shutil  # noqa: E402  (after the changes above, as a fresh interpreter would see them)
shutil._use_fd_functions = False
# subprocess keeps the fork_exec it needs here; nothing else finds it, as on Windows,
# where subprocess starts processes with CreateProcess.
__import__("subprocess")
sys.modules["_posixsubprocess"] = None



class _PytestWithoutUids(object):
    """Import hook: pytest's get_user_id answers None, as it does where sys.platform is
    win32 (elsewhere it calls os.getuid, hidden here)."""

    def find_spec(self, name, path=None, target=None):
        if name != "_pytest.compat":
            return None
        sys.meta_path.remove(self)
        import importlib.util
        spec = importlib.util.find_spec(name)
        execute = spec.loader.exec_module

        def exec_module(module):
            execute(module)
            module.get_user_id = lambda: None

        spec.loader.exec_module = exec_module
        return spec


sys.meta_path.insert(0, _PytestWithoutUids())

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import hide_memfd  # noqa: E402

hide_memfd.hide()
