"""Kept files, owned here: a failed test's leftovers copied into a kept directory (under
the run root, or the --keep-dir), within --keep-max-bytes; moved there once confirmed
when they cannot be copied; and what was not kept, said.

Copied, not moved: code that still owns a leftover keeps using it; the kept
directory shows it as it was when the test ended. What cannot be copied (a
full disk, an unreadable directory) is moved there once it is confirmed;
what is not kept at all is said, in the record and beside the copies.

--keep-dir: DIR holds one subdirectory per kept test, ``manifest.json`` (each
kept test's id, outcome, the first line of its failure, bytes and paths; what was
not kept, and why) and a marker that makes DIR tempguard's. An existing DIR that
is a link, or holds anything but no marker, is refused. Each run starts DIR
afresh, as pytest does its --basetemp, unless another live run uses it (refused);
the processes of one run (a supervisor and its test process, parallel workers)
share it. Everything is done through DIR's held descriptor (by path where there
is none), and no link is followed.
"""

import errno
import json
import socket
import stat

from .real import os
from . import capabilities as _capabilities
from . import cleanup as _cleanup
from . import held as _held
from . import ownership as _ownership
from .cleanup import is_link
from .copying import copy_entry, describe_special, tree_bytes, tree_files
from .errors import KeepDirRefused
from .inuse import ancestors, is_running, process_start
from .inputs import check_output_file
from .jsonreport import write_text
from .output import display

__all__ = ["MANIFEST", "MARKER", "NOT_KEPT_NOTE", "KeepDir", "Keeper", "checked",
           "move_into_kept"]

# In a kept directory: what could not be copied there, and why.
NOT_KEPT_NOTE = "tempguard-not-kept.txt"
MARKER = ".tempguard-keep-dir"
MANIFEST = "manifest.json"
MANIFEST_VERSION = 1


class Keeper(object):
    """Where a run keeps its failed tests' files, and how much: the home (the run root's
    kept/, or the held --keep-dir), the budget (--keep-max-bytes), the copies, and the
    moves that wait for a leftover's verdict because it could not be copied."""

    def __init__(self, settings):
        self.settings = settings
        self.root = None
        self.keep_dir = None  # the held --keep-dir (a KeepDir), if one was given
        self._moves = {}  # (id(place), name): (kept dir, its identity)

    def open(self, root, invocation):
        """Keep under the RunRoot *root*, or in the --keep-dir, taken for *invocation*
        (KeepDirRefused, an OSError, if another live run has it)."""
        self.root = root
        if self.settings.keep_dir:
            self.keep_dir = KeepDir.open(self.settings.keep_dir, invocation)

    def close(self):
        if self.keep_dir is not None:
            self.keep_dir.close()

    def keep(self, record, tracked, left):
        """Copy what *record*'s test left (*left*: its candidates in the sandbox), and move
        its tracked files (*tracked*: paths), into a kept directory named after it.

        A leftover that cannot be copied is moved there instead once it is confirmed
        (see move_if_waiting); what is not kept is said, never claimed: an error is a
        note of the record's, not raised.
        """
        try:
            with _held.own_umask():
                self._keep(record, tracked, left)
        except OSError as error:
            record.notes.append("its files could not be kept: %s" % error)

    def _keep(self, record, tracked, left):
        if not tracked and not left:
            return
        home = self.keep_dir or self.root
        over = self._over_budget(tracked + [_ownership.candidate_path(c) for c in left])
        if over is not None:
            record.not_kept.append(over)
            return
        kept = home.keep_dir(record.id)
        if kept is None:
            record.not_kept.append("not kept: %s, where they are kept, was replaced"
                                   % home.kept)
            return
        not_kept, moves = [], False
        kept_identity = _cleanup.inode_key(os.lstat(kept))
        for path in tracked:
            target = os.path.join(kept, os.path.basename(path))
            try:
                os.rename(path, target)
            except FileNotFoundError:
                continue
            except OSError:
                # Another filesystem: copied; the context's cleanup removes the original.
                not_kept += copy_entry(path, target)
        if not self.root.sandbox.is_replaced():
            for candidate in left:
                target = os.path.join(kept, candidate.name)
                failed = copy_entry(_ownership.candidate_path(candidate), target)
                if failed and not failed[0].is_special:
                    _cleanup.remove_paths([target])  # a part-copy shows nothing true
                    self.keep_when_confirmed(candidate, (kept, kept_identity))
                    moves = True
                else:
                    not_kept += failed
        record.not_kept.extend(str(item) for item in not_kept)
        _note_not_kept(kept, not_kept)
        if os.listdir(kept) or moves:
            record.kept = kept
        else:
            os.rmdir(kept)  # nothing could be kept: no empty directory claims otherwise

    def _over_budget(self, paths):
        """Why *paths* are not kept, if keeping them would pass --keep-max-bytes (what is
        kept so far in the home counts); else None."""
        budget = self.settings.keep_max_bytes
        if budget is None:
            return None
        if self.keep_dir is not None:
            target, at = self.keep_dir.held.place(".")
            kept = tree_bytes(target, **at)
        else:
            kept = tree_bytes(self.root.kept)
        needed = sum(tree_bytes(path) for path in paths)
        if kept + needed <= budget:
            return None
        return ("%d entries (%d bytes) not kept: past --keep-max-bytes %d (%d bytes kept "
                "already)" % (len(paths), needed, budget, kept))

    def keep_when_confirmed(self, candidate, kept):
        """Move *candidate* into the kept directory *kept* (path, identity) once it is
        confirmed, instead of removing it: it could not be copied there."""
        self._moves[(id(candidate.place), candidate.name)] = kept

    def pending_move(self, candidate):
        """The kept directory (path, identity) that *candidate* waits to be moved into,
        or None (see keep_when_confirmed)."""
        return self._moves.get((id(candidate.place), candidate.name))

    def move_if_waiting(self, candidate):
        """Move the confirmed *candidate* into the kept directory it waits for, if it
        does; True if nothing is left to remove."""
        if not self._moves:
            return False
        move = self._moves.pop((id(candidate.place), candidate.name), None)
        return move is not None and move_into_kept(candidate, move)


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
    # Under the lock a run takes the dir with (see _take): a parallel worker that is
    # writing the marker (beside it, then renamed) is waited for, not taken for a stranger.
    with _held.locked_directory(path):
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
    return sorted((display(path[cut:]), size)
                  for path, size in tree_files(target, at.get("dir_fd")))


def _note_not_kept(kept, not_kept):
    """List what was not copied in the kept directory itself, beside the copies."""
    if not not_kept:
        return
    fd = os.open(os.path.join(kept, NOT_KEPT_NOTE),
                 os.O_WRONLY | os.O_CREAT | os.O_EXCL | _capabilities.O_NOFOLLOW, 0o600)
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
        st = candidate.place.stat(candidate.name)
        if st is None or _cleanup.inode_key(st) != candidate.identity:
            _drop_if_empty(kept_path, candidate.record)
            return False  # gone or replaced: the removal says which
        if not _is_keepable(st.st_mode):
            _drop_if_empty(kept_path, candidate.record)
            candidate.record.not_kept.append("%s: %s; never kept" % (
                _ownership.candidate_path(candidate), describe_special(st.st_mode)))
            return False
        source, source_at = candidate.place.place(candidate.name)
        target, target_at = held.place(candidate.name)
        os.rename(source, target, src_dir_fd=source_at.get("dir_fd"),
                  dst_dir_fd=target_at.get("dir_fd"))
        if stat.S_ISDIR(st.st_mode):
            _drop_special_files(os.path.join(kept_path, candidate.name), candidate.record)
        return True
    except OSError as error:
        # Another filesystem (a --keep-dir), say: no empty kept dir claims otherwise.
        _drop_if_empty(kept_path, candidate.record)
        return _not_moved(candidate, error.strerror or str(error))
    finally:
        held.close()


def _is_keepable(mode):
    return stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode)


def _drop_special_files(moved, record):
    """Remove what a moved tree holds that is never kept (device nodes, FIFOs, sockets),
    and say so: the move takes a whole tree, the copy would have left them out."""
    try:
        for top, dirs, files in os.walk(moved):
            for name in dirs + files:
                path = os.path.join(top, name)
                mode = os.lstat(path).st_mode
                if name in dirs and _cleanup.is_link_at(path):
                    dirs.remove(name)  # a junction (os.walk enters one before 3.12)
                elif not _is_keepable(mode):
                    _cleanup.remove_paths([path])
                    record.not_kept.append("%s: %s; never kept, removed" % (
                        path, describe_special(mode)))
    except (OSError, RecursionError) as error:
        record.not_kept.append("%s: not checked for device nodes, FIFOs and sockets (%s)"
                               % (moved, getattr(error, "strerror", None) or error))


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
