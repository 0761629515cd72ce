"""The per-run sandbox: a private run root, tempfile/TMPDIR redirection, and orphans."""

import collections
import json
import random
import socket
import stat
import tempfile
import time

from .real import os
from . import capabilities as _capabilities
from . import cleanup as _cleanup
from . import held as _held
from . import inuse as _inuse
from .errors import HandleLostError, UnsafePathError
from .tracking import set_fallback


__all__ = ["RUN_PREFIX", "SANDBOX_NAME", "RunRoot", "RunRootInfo", "TempdirRedirect",
           "find_run_roots", "is_locked", "is_run_root_name", "prune_runs"]

# A run root is <temp dir>/tgXXXXX, its sandbox .../t and the children's dirs
# .../XYZ: at most 12 characters over the temp dir, so Unix socket paths under
# them stay short (108 bytes on Linux).
RUN_PREFIX = "tg"
SANDBOX_NAME = "t"
_NAME_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"
_NAME_LENGTH = 5
# Run roots of tempguard 0.1 (tempguard-run-PID-XXXXXXXX/tmp), still pruned.
_LEGACY_PREFIX = "tempguard-run-"
MARKER = "tempguard-run.json"
# What a finished run root keeps: everything else in it goes when the run ends.
_KEPT_NAMES = ("kept", MARKER)
# Windows does not remove an open file: what is still open when the run ends waits.
_LEFT_IN_USE = ("still in use when the run ended (a process has it open): left in the run "
                "root %s, which the next run or the monitor removes")
_ENV_NAMES = tuple(os.fsdecode(name) for name in _inuse.TEMP_DIR_VARIABLES)
# Children find the real temp dir here while TMPDIR points into a sandbox.

RunRootInfo = collections.namedtuple(
    "RunRootInfo", "path state pid host started has_kept invocation ended")
RunRootInfo.__doc__ = """A run root found in a temp dir; state is live, orphaned, finished or
unknown; invocation is the id it shares with the other processes of its run, or None;
ended is when its run finished it, or None."""


class RunRoot(object):
    """The private directory of one run: the sandbox ``t/``, ``kept/``, and an owner marker.

    Held by file descriptors from the start: a test that swaps the sandbox or
    the root for a link cannot steer a listing or a deletion outside. Every
    process of the run holds a shared flock on the root while it lives, which
    is what tells a live run from a dead one (systemd-tmpfiles honours it too).
    """

    def __init__(self, path, held, sandbox, invocation=None, kept_in=None):
        self.path = path
        self.tmp = sandbox.path
        self.held = held
        self.sandbox = sandbox
        self.invocation = invocation
        self._kept_in = kept_in
        self.kept = os.path.join((kept_in or held).path, "kept")
        self.removed = False
        self.started = time.time()

    @classmethod
    def create(cls, parent, invocation=None, inside=None):
        """Make a new run root under *parent*; never reuses an existing directory.

        *invocation* is the id of the run it is part of (see invocation). With
        *inside*, the HeldDirectory of a parallel run's parent's root, the new
        root is made in it, for one worker, and keeps files in the parent's ``kept/``.
        """
        if inside is not None:
            parent = inside.path
        check_shared_parent(parent)
        chooser = random.SystemRandom()
        for _attempt in range(tempfile.TMP_MAX):
            name = RUN_PREFIX + "".join(chooser.choice(_NAME_CHARS) for _ in range(_NAME_LENGTH))
            path = os.path.join(parent, name)
            try:
                os.mkdir(path, 0o700)
            except FileExistsError:
                continue
            break
        else:
            raise FileExistsError("no unused run root name in %s" % parent)
        held = _held.HeldDirectory(path, lock=True)
        check_private_dir(path, held)
        target, at = held.place(SANDBOX_NAME)
        os.mkdir(target, 0o700, **at)
        root = cls(path, held, _held.HeldDirectory(os.path.join(path, SANDBOX_NAME), held),
                   invocation, inside)
        root._write_marker(finished=False)
        return root

    def _write_marker(self, finished):
        owner = {"version": 2, "pid": os.getpid(), "host": socket.gethostname(),
                 "uid": _capabilities.euid(), "started": self.started, "finished": finished,
                 "ended": time.time() if finished else None,
                 "process_start": _inuse.process_start(os.getpid()),
                 "invocation": self.invocation}
        partial, at = self.held.place(MARKER + ".new")
        with _held.own_umask():
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC
                         | _capabilities.O_NOFOLLOW, 0o600, **at)
        with open(fd, "w") as handle:
            json.dump(owner, handle)
        self.held.replace(MARKER + ".new", MARKER)

    def keep_dir(self, test_id):
        """A new directory under ``kept/`` named after the test; None if the root was replaced."""
        home = self._kept_in or self.held
        if home.closed or home.is_replaced():
            return None
        with _held.own_umask():
            target, at = home.place("kept")
            try:
                os.mkdir(target, 0o700, **at)
            except FileExistsError:
                pass
            kept = _held.HeldDirectory(self.kept, home)
            try:
                return _held.new_subdir(kept, test_id)
            finally:
                kept.close()

    def replaced(self):
        """What a test removed or replaced of the root or else the sandbox: a list of
        messages."""
        for what, handle in (("the run root", self.held), ("the sandbox", self.sandbox)):
            if not handle.is_replaced():
                continue
            if not os.path.lexists(handle.path):
                return ["%s: %s was removed by a test" % (handle.path, what)]
            return ["%s: %s was replaced; its new content was left alone" % (handle.path, what)]
        return []

    def finish(self):
        """Remove the sandbox and the children's dirs; keep the root, marked finished,
        only if something remains.

        Everything goes through the held descriptors. What remains is kept
        files, or what could not be removed: a later run or the monitor prunes
        it once it can. A root that a test moved or replaced is emptied where
        it is now and left there; the link or entry now at its path is not ours.
        """
        if _held.BY_PATH and self.sandbox.is_replaced():
            # Held by path, a moved sandbox cannot be followed; what stands at its path
            # now is removed below as itself, never through it (replaced() says so).
            result = _cleanup.CleanupResult()
        else:
            result = self.sandbox.empty()
        self.sandbox.close()
        try:
            live = self._live_workers()
            # Whatever a test put in the sandbox's place is removed as itself, never followed.
            result.add(self.held.remove([(name, None) for name in self.held.names()
                                         if name not in _KEPT_NAMES and name not in live]))
            moved = self.held.is_replaced()
            if moved:
                result.add(self.held.empty())
            elif live or not result.ok or _has_entries(self.held, "kept"):
                self._write_marker(finished=True)
            else:
                result.add(self.held.remove([(name, None) for name in self.held.names()]))
                result.add(_cleanup.remove_paths([self.path]))
                self.removed = True
        except HandleLostError as lost:
            result.problems.append(_cleanup.CleanupProblem(self.path, lost.strerror))
        self.held.close()
        return result.say_in_use(_LEFT_IN_USE % self.path)

    def _live_workers(self):
        """Names of the run roots of parallel workers (see create) in this one that a
        process still holds or has as its temp dir: a worker's test's child, say."""
        return _live_workers(self.path, self.held.names(), in_use=True)

    def leave(self):
        """Let go of the root as it is, marked finished: a later run or the monitor prunes it."""
        self._write_marker(finished=True)
        self.let_go()

    def let_go(self):
        """Close this process's descriptors of the root; another process of the run
        holds it now (see reaper)."""
        self.sandbox.close()
        self.held.close()

    def descriptors(self):
        """The descriptors this process holds the root by, checked (see HeldDirectory.fd)."""
        if _held.BY_PATH:
            return []
        return [held.fd for held in (self.held, self.sandbox, self._kept_in)
                if held is not None and held.fd is not None]

    def adopt(self):
        """Mark the root as this process's, a process of the run that took it over."""
        self._write_marker(finished=False)

    def close(self, keep_runs):
        """finish(), then prune the dead runs beside this one, keeping *keep_runs* runs'
        kept files (this one's included). The result reports what pruning found replaced.
        A worker's root (see create) prunes nothing: its parent's does, at the end."""
        result = self.finish()
        if self._kept_in is not None:
            return result
        pruned = prune_runs(os.path.dirname(self.path), keep_runs, exclude=(self.path,),
                            invocation=self.invocation, kept_here=not self.removed,
                            since=self.started)
        result.problems.extend(pruned.replaced())
        return result


def _names(path):
    try:
        return os.listdir(path)
    except OSError:
        return []


def _has_entries(held, name):
    """True if the directory *name* in *held* (never a link) has entries."""
    try:
        child = _held.HeldDirectory(os.path.join(held.path, name), held)
    except OSError:
        return False
    try:
        return bool(child.names())
    finally:
        child.close()


def is_locked(path):
    """True while some process of a run holds its run root's flock: the run is live."""
    return _inuse.is_flocked(None, path, "dir")


def check_shared_parent(parent):
    """Refuse a temp dir where another user could replace our run root."""
    st = os.stat(parent)
    if not stat.S_ISDIR(st.st_mode):
        raise NotADirectoryError("temp dir %s is not a directory" % parent)
    if st.st_mode & 0o002 and not st.st_mode & stat.S_ISVTX and _capabilities.OWNERS:
        raise UnsafePathError("temp dir %s is world-writable without the sticky bit; "
                              "another user could replace tempguard's run root" % parent)


def check_private_dir(path, held=None):
    """A run root must be ours, a real directory, and closed to group and others."""
    st = os.lstat(path)
    if held is not None and _cleanup.inode_key(st) != held.identity:
        raise UnsafePathError("%s was replaced while it was opened" % path)
    if _cleanup.is_link(st) or not stat.S_ISDIR(st.st_mode):
        raise UnsafePathError("%s is not a real directory" % path)
    if st.st_uid != _capabilities.euid():
        raise UnsafePathError("%s is owned by uid %d, not by us" % (path, st.st_uid))
    if st.st_mode & 0o077 and _capabilities.OWNERS:
        raise UnsafePathError("%s is accessible to group or others (mode %o)"
                              % (path, stat.S_IMODE(st.st_mode)))


def _owner_state(owner):
    if owner.get("host") != socket.gethostname():
        return "unknown"
    pid = owner.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        return "unknown"
    if _capabilities.pid_exists(pid) is False:
        return "orphaned"
    if _inuse.process_state(pid) == "Z":
        return "orphaned"  # killed, not yet reaped: an xdist worker, say
    recorded = owner.get("process_start")
    if recorded is not None and _inuse.process_start(pid) not in (None, recorded):
        return "orphaned"
    return "live"


def is_run_root_name(name):
    """True for a name a run root may have (this version's or 0.1's)."""
    if name.startswith(_LEGACY_PREFIX):
        return True
    suffix = name[len(RUN_PREFIX):]
    return (name.startswith(RUN_PREFIX) and len(suffix) == _NAME_LENGTH
            and all(c in _NAME_CHARS for c in suffix))


def read_run_root(path):
    """RunRootInfo for a directory that is a run root (by its marker or lock), else None.

    Never follows a link. A run whose lock (or a worker's inside it) is held is
    live, whatever its marker says (or if it has none yet).
    """
    try:
        st = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode) or not is_run_root_name(os.path.basename(path)):
        return None
    owner, has_marker = {}, False
    try:
        fd = os.open(os.path.join(path, MARKER), os.O_RDONLY | _capabilities.O_NOFOLLOW)
        has_marker = True
        with open(fd) as handle:
            owner = json.load(handle)
    except FileNotFoundError:
        pass
    except (OSError, ValueError):
        has_marker = True
    if not isinstance(owner, dict):
        owner = {}
    # A worker's held root keeps its run live, whatever became of the parent.
    locked = st.st_uid == _capabilities.euid() and (
        is_locked(path) or bool(_live_workers(path, _names(path))))
    if not has_marker and not locked:
        return None
    if locked:
        state = "live"
    elif (not owner or st.st_uid != _capabilities.euid()
          or owner.get("uid") != _capabilities.euid()):
        state = "unknown"
    elif owner.get("version", 1) >= 2:
        # Nobody holds the lock. A test can close its owner's descriptor (a daemonizing
        # test closes every fd), so an unfinished root of another live process is live.
        if owner.get("host") != socket.gethostname():
            state = "unknown"
        elif (not owner.get("finished") and owner.get("pid") != os.getpid()
              and _owner_state(owner) == "live"):
            state = "live"
        else:
            state = "orphaned"
    else:
        state = _owner_state(owner)
    if state == "orphaned" and owner.get("finished"):
        state = "finished"
    kept = os.path.join(path, "kept")
    has_kept = os.path.isdir(kept) and not _cleanup.is_link_at(kept)
    invocation = owner.get("invocation")
    ended = owner.get("ended")
    return RunRootInfo(path, state, owner.get("pid"), owner.get("host"),
                       owner.get("started"), has_kept,
                       invocation if isinstance(invocation, str) else None,
                       ended if isinstance(ended, (int, float)) else None)


def _live_workers(path, names, in_use=False):
    """The *names* in the run root *path* that are parallel workers' run roots (see
    RunRoot.create) a process holds, or, with *in_use*, has as its temp dir."""
    workers = {name: os.path.join(path, name) for name in names if is_run_root_name(name)}
    temp_dirs = _inuse.environ_temp_dirs() if workers and in_use else ()
    return set(name for name, worker in workers.items()
               if _is_held(worker) or _inuse.environ_users(worker, temp_dirs))


def _is_held(path):
    """True while a process of a run holds its root: its flock; where there is no flock
    (Windows), its marker, naming an unfinished run of a process not known to be dead."""
    if _capabilities.FLOCK:
        return is_locked(path)
    info = read_run_root(path)
    return info is not None and info.state == "live"


def find_run_roots(parent):
    """Every run root in *parent*, oldest first."""
    roots = []
    with os.scandir(parent) as entries:
        for entry in entries:
            if is_run_root_name(entry.name):
                info = read_run_root(entry.path)
                if info is not None:
                    roots.append(info)
    roots.sort(key=lambda info: info.started or 0)
    return roots


def dead_parts(parent, invocation, since):
    """The run roots in *parent* of processes of *invocation* that began at *since* or
    later and died before finishing them (a worker killed by SIGKILL): RunRootInfo."""
    return [info for info in find_run_roots(parent)
            if invocation is not None and info.invocation == invocation
            and info.state == "orphaned" and (info.started or 0) >= since]


def prune_runs(parent, keep_runs, exclude=(), invocation=None, kept_here=False, since=None):
    """Remove run roots whose owner is dead, keeping the newest *keep_runs* runs with kept
    files; the pruner's own run counts if it kept any (*kept_here*, or a root of its
    *invocation*). The roots of one invocation count as one run.

    Only roots of this user, on this host, that no live process holds (or,
    for old roots, whose owner process is gone) are touched; a live run is
    never removed, nor a root of the pruner's own run, nor a root a test's
    child still has as its temp dir. With *since*, when the pruner's run
    began, a root of its invocation that ended (or crashed) before then is
    an earlier run's: CI jobs reuse one TEMPGUARD_INVOCATION for every run.
    """
    roots = find_run_roots(parent)
    own = [info for info in roots if invocation is not None and info.invocation == invocation
           and (since is None or info.state == "live"
                or (info.ended or info.started or 0) >= since)]
    if kept_here or any(info.has_kept for info in own):
        keep_runs -= 1
    dead = [info for info in roots if info.state in ("orphaned", "finished")
            and info.path not in exclude and info not in own]
    if dead:
        temp_dirs = _inuse.environ_temp_dirs()
        dead = [info for info in dead if not _inuse.environ_users(info.path, temp_dirs)]
    runs = []  # newest last: each run's key, once, where its newest root stands
    for info in dead:
        if info.has_kept:
            key = _run_key(info, invocation)
            if key in runs:
                runs.remove(key)
            runs.append(key)
    spared_runs = set(runs[max(0, len(runs) - keep_runs):]) if keep_runs > 0 else set()
    spared = set(info.path for info in dead
                 if info.has_kept and _run_key(info, invocation) in spared_runs)
    doomed = [info.path for info in dead if info.path not in spared]
    # A spared root keeps its kept files; a crashed run's sandbox goes in any case.
    doomed += [os.path.join(path, name) for path in spared for name in _names(path)
               if name not in _KEPT_NAMES]
    replaced = [_cleanup.CleanupProblem(
        os.path.join(info.path, "kept"),
        "replaced by a link; the link was removed, what it points to left alone", True)
        for info in dead if _cleanup.is_link_at(os.path.join(info.path, "kept"))]
    result = _cleanup.remove_paths(doomed)
    result.problems.extend(replaced)
    return result


def _run_key(info, invocation):
    """What tells one dead run from another: its invocation, but a root of the pruner's
    own invocation that is not of its run (see prune_runs) is a run of its own."""
    return info.path if info.invocation in (None, invocation) else info.invocation


class TempdirRedirect(object):
    """Points tempfile, TMPDIR/TEMP/TMP and the tracking fallback at a run, and restores
    them exactly.

    apply() and restore() nest: each restore() undoes the latest apply() (a
    mixin test may run another inside it). *fallback* is the provider of
    the context that files made outside any context go to (see set_fallback).
    """

    def __init__(self, path, fallback=None):
        self.path = path
        self._fallback = fallback
        self._saved = []
        self._left = None  # where the last test left tempfile and TMPDIR (see test_began)

    def apply(self):
        # Not tempfile.gettempdir(): with tempdir unset it probes the disk by
        # writing a file, which would cost every test a create and a delete.
        self._saved.append((tempfile.tempdir,
                            {name: os.environ.get(name) for name in _ENV_NAMES},
                            set_fallback(self._fallback)))
        tempfile.tempdir = self.path
        for name in _ENV_NAMES:
            os.environ[name] = self.path

    def restore(self):
        """Undo the latest apply()."""
        tempdir, env, fallback = self._saved.pop()
        tempfile.tempdir = tempdir
        for name, value in env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        set_fallback(fallback)

    def test_began(self, continuing):
        """Where tempfile and TMPDIR point as a test begins, for test_ended(): where the
        last test left them if only unittest ran since (*continuing*)."""
        return self._left if continuing and self._left is not None else self.snapshot()

    def test_ended(self, saved, nested=False):
        """Undo what the test changed since test_began() gave *saved*; a fixture's
        changes made before it hold. Unless *nested*, what the next test finds."""
        self.put_back(saved)
        if not nested:
            self._left = saved

    @staticmethod
    def snapshot():
        """Where tempfile and TMPDIR/TEMP/TMP point now (encoded), for put_back()."""
        get = _inuse.environ_getter()  # this runs once a test: three gets, no loop
        tmpdir, temp, tmp = _inuse.TEMP_DIR_VARIABLES
        return (tempfile.tempdir, get(tmpdir), get(temp), get(tmp))

    @staticmethod
    def put_back(saved):
        """Undo what changed since snapshot() gave *saved*; True if anything had to be."""
        if TempdirRedirect.snapshot() == saved:
            return False
        tempfile.tempdir = saved[0]
        for name, value in zip(_ENV_NAMES, saved[1:]):
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = os.fsdecode(value)
        return True
