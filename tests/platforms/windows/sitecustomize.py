"""Simulates CPython on Windows for tempguard's windows-like test leg: put this folder first
on PYTHONPATH. What Windows lacks is hidden, and what it refuses raises as it does there.

Hidden: the POSIX-only modules fcntl, resource, pwd and grp; os.fork and the other
process-group, uid and fd-only calls Windows lacks; O_NOFOLLOW and O_DIRECTORY; memfd_create (here and
from ctypes). os.supports_dir_fd is emptied and os.supports_fd reduced, os.scandir and
os.listdir of a descriptor raise TypeError, any dir_fd= raises NotImplementedError, and
os.open of a directory raises PermissionError.
shutil may have been imported already: it is told to walk by path.
"""

import functools
import os
import stat
import sys

for _name in ("fcntl", "resource", "pwd", "grp"):
    sys.modules[_name] = None

for _name in ("fork", "forkpty", "getuid", "geteuid", "getgid", "getegid", "setsid", "killpg",
              "getpgid", "setpgid", "getpgrp", "tcgetpgrp", "O_NOFOLLOW", "O_DIRECTORY",
              "O_PATH", "posix_spawn", "posix_spawnp",
              "fchown", "lchown", "mkfifo", "mknod", "pread", "pwrite", "wait3", "wait4",
              "fwalk", "sync"):
    if hasattr(os, _name):
        delattr(os, _name)

os.supports_dir_fd.clear()
os.supports_fd.intersection_update({os.stat, os.truncate} & os.supports_fd)
os.supports_follow_symlinks.intersection_update({os.stat} & os.supports_follow_symlinks)


# The replacements are partials, not functions: like the builtins they stand for, they
# do not become methods where a class stores them (3.7's pathlib keeps os.stat so).
def _refuse_dir_fd(function, *args, **kwargs):
    if kwargs.get("dir_fd") is not None or kwargs.get("src_dir_fd") is not None \
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
    if stat.S_ISDIR(os.fstat(fd).st_mode):
        os.close(fd)
        raise PermissionError(13, "Permission denied", path)  # as Windows refuses
    return fd


os.open = functools.partial(_no_directory_open, os.open)
for _name in ("open", "stat", "lstat", "unlink", "remove", "rmdir", "mkdir", "rename",
              "replace", "chmod", "chown", "readlink", "symlink", "link", "utime", "access"):
    if hasattr(os, _name):
        setattr(os, _name, functools.partial(_refuse_dir_fd, getattr(os, _name)))
for _name in ("scandir", "listdir"):
    setattr(os, _name, functools.partial(_refuse_fd_listing, getattr(os, _name)))

import shutil  # noqa: E402  (after the changes above, as a fresh interpreter would see them)
shutil._use_fd_functions = False

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import hide_memfd  # noqa: E402

hide_memfd.hide()
