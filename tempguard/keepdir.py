"""--keep-dir: kept files in a directory of the user's choosing, for CI to upload, with a manifest.

DIR holds one subdirectory per kept test, ``manifest.json`` (each kept
test's id, outcome, the first line of its failure, bytes and paths; what was
not kept, and why) and a marker that makes DIR tempguard's. An existing DIR
that is a link, or holds anything but no marker, is refused. Each run starts
DIR afresh, as pytest does its --basetemp, unless another live run uses it
(refused); the processes of one run (a supervisor and its test process,
parallel workers) share it. Everything is done through DIR's held
descriptor, and no link is followed.
"""

import errno
import json
import socket
import stat

from .real import os
from . import capabilities as _capabilities
from . import held as _held
from .cleanup import is_link
from .errors import KeepDirRefused
from .inuse import ancestors, is_running, process_start
from .output import display
from .jsonreport import check_output_file, write_text

__all__ = ["MANIFEST", "MARKER", "KeepDir", "checked", "tree_bytes"]

MARKER = ".tempguard-keep-dir"
MANIFEST = "manifest.json"
MANIFEST_VERSION = 1


def checked(path):
    """*path* as an absolute --keep-dir, checked before anything runs; nothing is made."""
    given = os.fspath(path)
    path = os.path.abspath(given)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        check_output_file(path, "keep_dir")  # its parent exists, and may be written in
        return path
    if is_link(st):
        raise ValueError("keep_dir %s: a link; give the directory it leads to" % given)
    if not stat.S_ISDIR(st.st_mode):
        raise NotADirectoryError("keep_dir %s: not a directory" % given)
    names = os.listdir(path)
    if names and MARKER not in names:
        raise ValueError("keep_dir %s: not empty, and not tempguard's (no %s): refused, "
                         "so that nothing of yours is mixed with kept files" % (given, MARKER))
    return path


class KeepDir(object):
    """The held --keep-dir of one process of a run; see open()."""

    def __init__(self, path, held):
        self.path = self.kept = path  # kept: where kept dirs go, as RunRoot.kept
        self.held = held

    @classmethod
    def open(cls, path, invocation=None):
        """Make or join the --keep-dir at *path*: a run takes it (emptied of an ended run's
        files), and its processes share it. Raises OSError (refused) if it is another
        live run's, a link, or not tempguard's."""
        with _held.own_umask():
            try:
                os.mkdir(path, 0o700)
            except FileExistsError:
                pass
        try:
            held = _held.HeldDirectory(path)
        except OSError as error:
            raise KeepDirRefused(error.errno, "keep_dir %s: %s" % (path, error.strerror))
        try:
            with held.locked():
                _take(held, invocation)
        except BaseException:
            held.close()
            raise
        return cls(path, held)

    def keep_dir(self, test_id):
        """A new directory named after the test, as RunRoot.keep_dir makes under kept/;
        None if a test replaced DIR (its copies would go where the new path leads)."""
        if self.held.is_replaced():
            return None
        return _held.new_subdir(self.held, test_id)

    def write_manifest(self, records, fixture_records):
        """Write manifest.json: the kept tests of *records* with what each kept, and what
        was not kept of any record, and why; with what the run's other processes (parallel
        workers) wrote there, under DIR's lock."""
        kept, not_kept = self._entries(records, fixture_records)
        with self.held.locked():
            # DIR was emptied when the run took it: a manifest in it is this run's.
            written = _read_manifest(self.held)
            ours = set(entry["dir"] for entry in kept)
            tests = set(entry["test"] for entry in not_kept)
            kept = [e for e in written["kept"] if e.get("dir") not in ours] + kept
            not_kept = [e for e in written["not_kept"] if e.get("test") not in tests] + not_kept
            manifest = {"version": MANIFEST_VERSION, "kept": kept, "not_kept": not_kept}
            target, at = self.held.place(MANIFEST)
            write_text(target, json.dumps(manifest, indent=2) + "\n", **at)

    def _entries(self, records, fixture_records):
        inside = self.path.rstrip(os.sep) + os.sep
        kept, not_kept = [], []
        for record in list(records) + list(fixture_records):
            if record.kept and record.kept.startswith(inside):
                name = record.kept[len(inside):]
                paths = _relative_files(self.held, name)
                kept.append({"test": record.id, "outcome": record.outcome,
                             "failure": record.failure, "dir": name,
                             "bytes": sum(size for _path, size in paths),
                             "paths": [path for path, _size in paths],
                             "not_kept": list(record.not_kept)})
            elif record.not_kept:
                not_kept.append({"test": record.id, "outcome": record.outcome,
                                 "failure": record.failure, "not_kept": list(record.not_kept)})
        return kept, not_kept

    def close(self):
        self.held.close()


def _take(held, invocation):
    """Under DIR's lock: join the run that owns it, or take it for this one."""
    owner = _owner(held)
    if owner is not None and _shared(owner, invocation):
        return
    if owner is not None and _alive(owner):
        raise KeepDirRefused(errno.EBUSY, "keep_dir %s: used by a live run (pid %d): refused"
                             % (held.path, owner["pid"]))
    names = [name for name in held.names() if name != MARKER]
    if names and owner is None:
        raise KeepDirRefused(errno.ENOTEMPTY, "keep_dir %s: not empty, and not tempguard's "
                             "(no %s): refused" % (held.path, MARKER))
    result = held.remove([(name, None) for name in names])  # an ended run's kept files
    if not result.ok:
        raise KeepDirRefused(errno.EIO, "keep_dir %s: could not empty it of an earlier run's "
                             "files: %s" % (held.path, "; ".join(str(p) for p in result.problems)))
    pid = os.getpid()
    target, at = held.place(MARKER)
    try:
        write_text(target, json.dumps({"pid": pid, "start": process_start(pid),
                                       "host": socket.gethostname(), "invocation": invocation})
                   + "\n", **at)
    except OSError as error:  # a full disk, say: the error names no path of its own
        raise KeepDirRefused(error.errno, "keep_dir %s: could not write its marker: %s"
                             % (held.path, error.strerror or error))


def _read_manifest(held):
    """The manifest in DIR as written so far ({"kept": [], "not_kept": []} if none, or if
    it is not one: it is written anew); a link there is not followed."""
    try:
        with open(_open_regular(held, MANIFEST)) as handle:
            manifest = json.load(handle)
        if isinstance(manifest.get("kept"), list) and isinstance(manifest.get("not_kept"), list):
            return manifest
    except (OSError, ValueError, AttributeError):
        pass
    return {"kept": [], "not_kept": []}


def _owner(held):
    """What the marker says of the run that owns DIR, {} if it says nothing readable, or
    None if there is no marker."""
    try:
        fd = _open_regular(held, MARKER)
    except FileNotFoundError:
        return None
    except OSError:
        return {}  # a link or worse at the marker's name: an ended run's, replaced below
    try:
        with open(fd) as handle:
            owner = json.load(handle)
    except (OSError, ValueError):
        return {}
    return owner if isinstance(owner, dict) else {}


def _open_regular(held, name):
    """A descriptor of the file *name* in DIR, opened only if it is not a link (nor, by
    path, a junction); OSError if it is."""
    target, at = held.place(name)
    if _held.BY_PATH and is_link(os.lstat(target)):
        raise OSError(errno.ELOOP, "a link", target)
    return os.open(target, os.O_RDONLY | _capabilities.O_NOFOLLOW | _capabilities.O_CLOEXEC, **at)


def _shared(owner, invocation):
    """True if the run that owns DIR is this process's: this process, an ancestor (a
    supervisor, a parallel engine's parent), or one of the same invocation."""
    if invocation is not None and owner.get("invocation") == invocation:
        return True
    return _alive(owner) and (owner["pid"] == os.getpid() or owner["pid"] in ancestors())


def _alive(owner):
    """True if the process the marker names still runs on this host (not a reused pid)."""
    pid = owner.get("pid")
    return (owner.get("host") == socket.gethostname() and isinstance(pid, int)
            and is_running(pid, owner.get("start")))


def _relative_files(held, name):
    """[(path relative to DIR, bytes)] of what the kept directory *name* holds."""
    target, at = held.place(name)
    cut = 0 if at else len(held.path) + 1  # by path, the paths are DIR's
    return sorted((display(path[cut:]), size) for path, size in _files(target, at.get("dir_fd")))


def tree_bytes(path, dir_fd=None):
    """The bytes of the regular files at or under *path* (relative to *dir_fd*), links not
    followed; 0 where nothing is."""
    return sum(size for _path, size in _files(path, dir_fd))


def _files(path, dir_fd):
    """(path, bytes) of each entry that is not a directory at or under *path*; a regular
    file's bytes on disk, 0 for the rest. What is gone meanwhile is left out."""
    try:
        st = os.stat(path, dir_fd=dir_fd, follow_symlinks=False)
    except OSError:
        return
    if not stat.S_ISDIR(st.st_mode) or is_link(st):
        yield path, _stored_bytes(st)
        return
    if dir_fd is None and not hasattr(os, "fwalk"):  # Windows
        yield from _files_by_path(path)
        return
    try:
        for top, _dirs, files, top_fd in os.fwalk(path, dir_fd=dir_fd):
            for name in files:
                try:
                    st = os.stat(name, dir_fd=top_fd, follow_symlinks=False)
                except OSError:
                    continue
                yield os.path.join(top, name), _stored_bytes(st)
    except (OSError, RecursionError):  # os.fwalk recurses before 3.13
        return


def _files_by_path(path):
    """_files without fwalk: lstat each entry, never enter a link or a junction."""
    pending = [path]
    while pending:
        top = pending.pop()
        try:
            names = os.listdir(top)
        except OSError:
            continue
        for name in names:
            entry = os.path.join(top, name)
            try:
                st = os.lstat(entry)
            except OSError:
                continue
            if stat.S_ISDIR(st.st_mode) and not is_link(st):
                pending.append(entry)
            else:
                yield entry, _stored_bytes(st)


def _stored_bytes(st):
    """What a copy of a regular file takes on disk: a sparse 10 GB file is not 10 GB;
    0 for the rest."""
    if not stat.S_ISREG(st.st_mode):
        return 0
    blocks = getattr(st, "st_blocks", None)  # Windows has none
    return st.st_size if blocks is None else min(st.st_size, blocks * 512)
