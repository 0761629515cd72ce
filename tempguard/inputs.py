"""Files the user names for tempguard: to read (a baseline, reports to show or merge),
opened without blocking and without following a link, and read only if regular and
of a sane size, so a FIFO, /dev/zero or a directory is a one-line error, not a hang;
to write (a report, a baseline, a log), checked before anything runs."""

import errno
import stat

from .real import os
from . import capabilities as _capabilities
from .cleanup import is_link_at

__all__ = ["check_output_file", "read_text"]

_FLAGS = (os.O_RDONLY | _capabilities.O_NOFOLLOW | _capabilities.O_NONBLOCK
          | _capabilities.O_CLOEXEC)


def read_text(path, what, limit):
    """The text of the regular file *path* (UTF-8, undecodable bytes kept as
    surrogates). Raises OSError or ValueError naming *what* and *path* and the reason:
    a link, not a regular file, or more than *limit* bytes."""
    try:
        if not _capabilities.O_NOFOLLOW and is_link_at(path):  # Windows: no O_NOFOLLOW
            raise OSError(errno.ELOOP, "a link", path)
        fd = os.open(path, _FLAGS)
    except OSError as error:
        if error.errno == errno.ELOOP:  # O_NOFOLLOW: it is read (and rewritten) as itself
            raise ValueError("%s %s: a link; give the file it leads to" % (what, path))
        raise type(error)("%s %s: %s" % (what, path, error.strerror or error))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ValueError("%s %s: not a regular file" % (what, path))
        if st.st_size > limit:
            raise ValueError("%s %s: %d bytes, more than the %d a %s may have"
                             % (what, path, st.st_size, limit, what))
    except BaseException:
        os.close(fd)
        raise
    with open(fd, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise ValueError("%s %s: more than the %d bytes a %s may have" % (what, path, limit, what))
    return data.decode("utf-8", "surrogateescape")


def check_output_file(path, what):
    """*path* made absolute (tests may chdir), checked before anything runs: it names a
    file in an existing directory we may write in. *what* names it in errors."""
    given = os.fspath(path)
    path = os.path.abspath(given)
    directory = os.path.dirname(path)
    if os.path.isdir(path) or given.endswith(os.sep):
        raise IsADirectoryError("%s %s: names a directory, not a file" % (what, given))
    if not os.path.isdir(directory):
        raise FileNotFoundError("%s %s: no directory %s" % (what, given, directory))
    if not os.access(directory, os.W_OK | os.X_OK):
        raise PermissionError("%s %s: directory %s is not writable" % (what, given, directory))
    return path
