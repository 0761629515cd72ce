"""Kept files: copies of what a failed test left, made without following a link.

Copied, not moved: code that still owns a leftover keeps using it; the kept
directory shows it as it was when the test ended. What cannot be copied (a
full disk, an unreadable directory) is moved there once it is confirmed;
what is not kept at all is said, in the record and beside the copies.
"""

import collections
import os
import shutil
import stat

from . import held as _held
from . import ownership as _ownership
from .output import display

__all__ = ["NOT_KEPT_NOTE", "NotCopied", "copy_entry", "move_into_kept", "note_not_kept"]

# In a kept directory: what could not be copied there, and why.
NOT_KEPT_NOTE = "tempguard-not-kept.txt"


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
    owner removed it) is nothing to keep, and no failure.
    """
    if not os.path.lexists(source):
        return []
    special = []

    def copy_file(src, dst):
        mode = os.lstat(src).st_mode
        if stat.S_ISREG(mode) or stat.S_ISLNK(mode):
            shutil.copy2(src, dst, follow_symlinks=False)
        else:
            special.append(NotCopied(src, "%s; never opened, not copied" % _special(mode), True))

    failed = []
    try:
        if stat.S_ISDIR(os.lstat(source).st_mode):
            shutil.copytree(source, target, symlinks=True, copy_function=copy_file)
        else:
            copy_file(source, target)
    except shutil.Error as errors:
        failed = [NotCopied(src, "not copied: %s" % why, False)
                  for src, _dst, why in errors.args[0]]
    except OSError as error:
        failed = [NotCopied(source, "not copied: %s" % (error.strerror or error), False)]
    return failed + special


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
                 os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
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
        if _ownership.state_of(candidate) != "same":
            _drop_if_empty(kept_path, candidate.record)
            return False  # gone or replaced: the removal says which
        os.rename(candidate.name, candidate.name, src_dir_fd=candidate.place.fd,
                  dst_dir_fd=held.fd)
        return True
    except OSError as error:
        return _not_moved(candidate, error.strerror or str(error))
    finally:
        held.close()


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
