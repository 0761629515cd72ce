"""What this platform can do, found once: each feature reads it here and has a reduced form.

Like ``shutil.rmtree.avoids_symlink_attacks``, every answer is a plain value
or a small function; nothing here fails to import on any CPython platform.
"""

from .real import os

__all__ = ["mount_id"]

_FDINFO = "/proc/self/fdinfo/%d"
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


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
