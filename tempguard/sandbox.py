"""The per-run sandbox: a private run root, tempfile/TMPDIR redirection, and orphans."""

import collections
import json
import os
import socket
import stat
import tempfile
import time

from . import cleanup as _cleanup
from .errors import UnsafePathError

__all__ = ["RUN_PREFIX", "RunRoot", "RunRootInfo", "TempdirRedirect",
           "find_run_roots", "prune_runs"]

RUN_PREFIX = "tempguard-run-"
MARKER = "tempguard-run.json"
_ENV_NAMES = ("TMPDIR", "TEMP", "TMP")
# Children find the real temp dir here while TMPDIR points into a sandbox.
SYSTEM_TMPDIR_ENV = "TEMPGUARD_SYSTEM_TMPDIR"

RunRootInfo = collections.namedtuple(
    "RunRootInfo", "path state pid host started has_kept")
RunRootInfo.__doc__ = """A run root found in a temp dir; state is live, orphaned, finished or unknown."""


class RunRoot(object):
    """The private directory of one run: ``tmp/`` (the sandbox), ``kept/``, and an owner marker."""

    def __init__(self, path):
        self.path = path
        self.tmp = os.path.join(path, "tmp")
        self.kept = os.path.join(path, "kept")

    @classmethod
    def create(cls, parent):
        """Make a new run root under *parent*; never reuses an existing directory."""
        check_shared_parent(parent)
        path = tempfile.mkdtemp(prefix="%s%d-" % (RUN_PREFIX, os.getpid()), dir=parent)
        check_private_dir(path)
        root = cls(path)
        os.mkdir(root.tmp, 0o700)
        root._write_marker(finished=False)
        return root

    def _write_marker(self, finished):
        owner = {"version": 1, "pid": os.getpid(), "host": socket.gethostname(),
                 "uid": os.geteuid(), "started": time.time(), "finished": finished,
                 "process_start": _process_start(os.getpid())}
        marker = os.path.join(self.path, MARKER)
        with open(marker + ".new", "w") as handle:
            json.dump(owner, handle)
        os.replace(marker + ".new", marker)

    def keep_dir(self, test_id):
        """A new directory under ``kept/`` named after the test."""
        os.makedirs(self.kept, 0o700, exist_ok=True)
        base = os.path.join(self.kept, _safe_name(test_id))
        path, number = base, 1
        while True:
            try:
                os.mkdir(path, 0o700)
                return path
            except FileExistsError:
                number += 1
                path = "%s-%d" % (base, number)

    def finish(self):
        """Remove the sandbox; keep the root, marked finished, only if something remains.

        What remains is kept files, or what could not be removed: a later
        run or the monitor prunes it once it can.
        """
        result = _cleanup.remove_paths([self.tmp])
        if not result.ok or (os.path.isdir(self.kept) and os.listdir(self.kept)):
            self._write_marker(finished=True)
        else:
            result.add(_cleanup.remove_paths([self.path]))
        return result


def check_shared_parent(parent):
    """Refuse a temp dir where another user could replace our run root."""
    st = os.stat(parent)
    if not stat.S_ISDIR(st.st_mode):
        raise NotADirectoryError("temp dir %s is not a directory" % parent)
    if st.st_mode & 0o002 and not st.st_mode & stat.S_ISVTX:
        raise UnsafePathError("temp dir %s is world-writable without the sticky bit; "
                              "another user could replace tempguard's run root" % parent)


def check_private_dir(path):
    """A run root must be ours, a real directory, and closed to group and others."""
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
        raise UnsafePathError("%s is not a real directory" % path)
    if st.st_uid != os.geteuid():
        raise UnsafePathError("%s is owned by uid %d, not by us" % (path, st.st_uid))
    if st.st_mode & 0o077:
        raise UnsafePathError("%s is accessible to group or others (mode %o)"
                              % (path, stat.S_IMODE(st.st_mode)))


def _safe_name(text):
    cleaned = "".join(c if c.isalnum() or c in "._-" else "_" for c in text)
    return cleaned[:150] or "test"


def _process_start(pid):
    """The start time of a process in clock ticks (Linux), to tell a reused pid apart."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
        return int(fields[19])
    except (OSError, IndexError, ValueError):
        return None


def _owner_state(owner):
    if owner.get("host") != socket.gethostname():
        return "unknown"
    pid = owner.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        return "unknown"
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return "orphaned"
    except PermissionError:
        pass
    recorded = owner.get("process_start")
    if recorded is not None and _process_start(pid) not in (None, recorded):
        return "orphaned"
    return "live"


def read_run_root(path):
    """RunRootInfo for a directory that looks like a run root, else None. Never follows a link."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode):
        return None
    owner = {}
    try:
        fd = os.open(os.path.join(path, MARKER), os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with open(fd) as handle:
            owner = json.load(handle)
    except (OSError, ValueError):
        pass
    if not isinstance(owner, dict):
        owner = {}
    if not owner or st.st_uid != os.geteuid() or owner.get("uid") != os.geteuid():
        state = "unknown"
    else:
        state = _owner_state(owner)
        if state == "orphaned" and owner.get("finished"):
            state = "finished"
    has_kept = os.path.isdir(os.path.join(path, "kept")) and not os.path.islink(
        os.path.join(path, "kept"))
    return RunRootInfo(path, state, owner.get("pid"), owner.get("host"),
                       owner.get("started"), has_kept)


def find_run_roots(parent):
    """Every run root in *parent*, oldest first."""
    roots = []
    with os.scandir(parent) as entries:
        for entry in entries:
            if entry.name.startswith(RUN_PREFIX):
                info = read_run_root(entry.path)
                if info is not None:
                    roots.append(info)
    roots.sort(key=lambda info: info.started or 0)
    return roots


def prune_runs(parent, keep_runs, exclude=()):
    """Remove run roots whose owner is dead, keeping the newest *keep_runs* with kept files.

    Only roots of this user, on this host, whose owner process is gone (or
    finished) are touched; a live run is never removed.
    """
    dead = [info for info in find_run_roots(parent)
            if info.state in ("orphaned", "finished") and info.path not in exclude]
    with_kept = [info for info in dead if info.has_kept]
    spared = set(info.path for info in with_kept[max(0, len(with_kept) - keep_runs):]) \
        if keep_runs > 0 else set()
    doomed = [info.path for info in dead if info.path not in spared]
    # A spared root keeps its kept files; a crashed run's sandbox goes in any case.
    doomed += [os.path.join(path, "tmp") for path in spared]
    return _cleanup.remove_paths(doomed)


class TempdirRedirect(object):
    """Points tempfile and TMPDIR/TEMP/TMP at a directory, and restores them exactly."""

    def __init__(self, path, system_tempdir):
        self.path = path
        self.system_tempdir = system_tempdir
        self._saved = None

    def apply(self):
        # Not tempfile.gettempdir(): with tempdir unset it probes the disk by
        # writing a file, which would cost every test a create and a delete.
        self._saved = (tempfile.tempdir, {name: os.environ.get(name) for name in _ENV_NAMES},
                       os.environ.get(SYSTEM_TMPDIR_ENV))
        if self._saved[2] is None:
            os.environ[SYSTEM_TMPDIR_ENV] = self.system_tempdir
        tempfile.tempdir = self.path
        for name in _ENV_NAMES:
            os.environ[name] = self.path

    def reassert(self):
        """Undo what a test changed; True if anything had to be put back."""
        changed = tempfile.tempdir != self.path
        tempfile.tempdir = self.path
        for name in _ENV_NAMES:
            if os.environ.get(name) != self.path:
                os.environ[name] = self.path
                changed = True
        return changed

    def restore(self):
        tempdir, env, system = self._saved
        tempfile.tempdir = tempdir
        for name, value in list(env.items()) + [(SYSTEM_TMPDIR_ENV, system)]:
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
