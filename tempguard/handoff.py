"""The hand-off: how a supervised run's test process passes its records to the supervisor.

The channel is an anonymous file in memory (a memfd), made before the fork
and held by both processes. Nothing a test can break is needed to use it:
not the run root (a test may remove it), the disk (full), the umask, the
fd limit (no new descriptor is opened) or the low fd numbers (it sits high,
and is checked to still be the file made before it is written). If a test
closed the test process's copy, it is reopened through the supervisor's.
"""

import errno
import json
import os
import tempfile

from .cleanup import inode_key
from .held import high_fd, holds
from .errors import HandleLostError

__all__ = ["Channel", "anonymous_file"]


# Pieces of encoded JSON written at a time (see Channel.send).
_CHUNK_PIECES = 16384


def _pwrite_all(fd, data, offset):
    """Write all of *data* at *offset*; the offset after it."""
    done = 0
    while done < len(data):
        done += os.pwrite(fd, data[done:], offset + done)
    return offset + done


class Channel(object):
    """One hand-off from the test process to the supervisor, as JSON."""

    def __init__(self):
        self._fd = high_fd(anonymous_file())
        st = os.fstat(self._fd)
        self._identity = inode_key(st)
        self._supervisor = os.getpid()

    def send(self, data):
        """In the test process: hand *data* over. Raises OSError if it cannot.

        Written in chunks as it is encoded: the records of thousands of leaks
        are never held as one string besides the data.
        """
        fd, opened = self._writable()
        try:
            os.ftruncate(fd, 0)
            offset, chunk = 0, []
            for piece in json.JSONEncoder().iterencode(data):
                chunk.append(piece)
                if len(chunk) >= _CHUNK_PIECES:
                    offset = _pwrite_all(fd, "".join(chunk).encode("utf-8"), offset)
                    chunk = []
            _pwrite_all(fd, "".join(chunk).encode("utf-8"), offset)
        finally:
            if opened:
                os.close(fd)

    def receive(self):
        """In the supervisor, once the test process has exited: what it handed over,
        or None if it handed nothing over."""
        size = os.fstat(self._fd).st_size
        payload = b""
        while len(payload) < size:  # one read, unless the kernel gives less
            chunk = os.pread(self._fd, size - len(payload), len(payload))
            if not chunk:
                break  # cut short: json says so (ValueError)
            payload += chunk
        return json.loads(payload) if payload else None

    def close(self):
        os.close(self._fd)

    def _writable(self):
        """(fd, whether it was opened here): this process's copy if it is still the
        channel, else the supervisor's reopened by /proc."""
        if self._holds(self._fd):
            return self._fd, False
        try:
            fd = os.open("/proc/%d/fd/%d" % (self._supervisor, self._fd),
                         os.O_WRONLY | os.O_CLOEXEC)
        except OSError as error:
            raise HandleLostError(errno.EBADF, "a test closed tempguard's hand-off channel "
                                  "(fd %d) and it could not be reopened (%s)"
                                  % (self._fd, error.strerror)) from None
        if not self._holds(fd):
            os.close(fd)
            raise HandleLostError(errno.EBADF, "a test closed tempguard's hand-off channel "
                                  "(fd %d) and the supervisor's is not it" % self._fd)
        return fd, True

    def _holds(self, fd):
        return holds(fd, self._identity)


def anonymous_file():
    """A new file with no name (close-on-exec), in memory where the system has memfds."""
    try:
        return os.memfd_create("tempguard-handoff", os.MFD_CLOEXEC)
    except AttributeError:
        return _libc_memfd()
    except OSError:
        return _unlinked_file()


def _libc_memfd():
    try:
        import ctypes  # only here: Python 3.6 and 3.7 have no os.memfd_create
        libc = ctypes.CDLL(None, use_errno=True)
        fd = libc.memfd_create(b"tempguard-handoff", 1)  # MFD_CLOEXEC
    except (OSError, AttributeError):
        fd = -1
    return fd if fd >= 0 else _unlinked_file()


def _unlinked_file():
    """Where there are no memfds: a file in the temp dir, unlinked at once."""
    fd, path = tempfile.mkstemp(prefix="tempguard-handoff-")
    os.unlink(path)
    return fd
