"""A temp dir for the children of each test and fixture, so that their files name their starter.

While a run is guarded, the functions that start processes are wrapped:
os.fork, os.forkpty, os.posix_spawn(p) and _posixsubprocess.fork_exec, which
subprocess and multiprocessing use. A child started during a test or a
fixture gets TMPDIR/TEMP/TMP (and, if forked, tempfile.tempdir) pointing at
a directory of that scope's own, beside the sandbox; grandchildren inherit
it. Only values that point at the sandbox change: a child given another
temp dir keeps it, and the running process's own tempfile settings never
change, so tests comparing tempfile.gettempdir() see what unittest shows.
multiprocessing's forkserver and resource tracker serve the whole run and
keep the sandbox.
"""

import contextlib
import sys
import tempfile
import time

from .real import os
from . import capabilities as _capabilities
from . import inuse as _inuse
from . import origins as _origins
from .held import HeldDirectory, own_umask

__all__ = ["CHILD_GRACE_SECONDS", "INHERITED_WAIT_SECONDS", "ChildDir", "ChildDirs"]

_ENV_NAMES = _inuse.TEMP_DIR_VARIABLES
_NAME_CHARS = "0123456789abcdefghijklmnopqrstuvwxyz"
# A child dir is <run root>/XYZ: with the 7-character run root name, 12
# characters over the temp dir, as the sandbox (<run root>/t) is budgeted.
_NAME_LENGTH = 3
_SHARED_HELPERS = ("multiprocessing.forkserver", "multiprocessing.resource_tracker",
                   "multiprocessing.semaphore_tracker")


# A dir whose children had all exited, empty when its starter ended, is asked whether a
# process inherited it (its grandchildren) together with this many others: /proc is
# listed once for them, not once a test that starts a child.
_QUIET_BATCH = 16

# How long the end of a run waits for children still writing in their starter's dir.
CHILD_GRACE_SECONDS = 3.0
# How long a process that only names a child dir in its environment (TMPDIR), with
# nothing open, no current directory and no socket in it, holds the run's end: a
# daemon a test started (gpg-agent) may live for days.
INHERITED_WAIT_SECONDS = 10


class ChildDir(object):
    """The temp dir of the processes one test or fixture started, and who they were."""

    def __init__(self, name, path, held, older=None):
        self.name = name
        self.path = path
        self.held = held
        # Only a process started after the dir was made can have it in its environment:
        # the others' environments are never read (a test that starts a child paid for
        # every process on the machine, each time its dir was checked). *older* may be
        # taken before the dir was made (more are read, none missed), and is given empty
        # for a dir made before this object (see supervisor).
        self.older = _inuse.pids() if older is None else older
        self.pids_seen = self.older  # the latest listing of /proc, for the next dir
        self.owner = None
        self.record = None
        self.processes = []    # (argv or None for a fork, pid)
        self.names_at_end = None

    def origin(self, name):
        """The origin of an entry found here: the child that made it, where it can be told."""
        origin = {"started_by": self.owner,
                  "after_end": self.names_at_end is not None and name not in self.names_at_end}
        if len(self.processes) == 1:
            argv, pid = self.processes[0]
            origin.update(subprocess=argv, pid=pid)
        else:
            origin.update(subprocess=None, pid=None, processes=len(self.processes))
        return origin

    def user(self, now=None, temp_dirs=None):
        """A live process that may still write here (a child, or one that inherited the
        dir), or None. *now*: pids() just taken, and *temp_dirs*: environ_temp_dirs() of
        at least the pids in *now* that are not older than this dir (see ChildDirs)."""
        pid = self.running_child()
        if pid is not None:
            return pid
        self.pids_seen = _inuse.pids() if now is None else now
        if temp_dirs is None:
            temp_dirs = _inuse.environ_temp_dirs(older=self.older, now=self.pids_seen)
        users = _inuse.environ_users(self.path, [(pid, value) for pid, value in temp_dirs
                                                 if str(pid) not in self.older])
        return users[0] if users else None

    def running_child(self):
        """The pid of a process started into this dir that still runs, or None."""
        for _argv, pid in self.processes:
            if _inuse.is_running(pid):
                return pid
        return None

    def holder(self):
        """What does more with this dir than name it in its environment: a child the test
        started that still runs (its pid), or an open file, a current directory, a bound
        socket inside (why); None if nothing does (a daemon that merely inherited TMPDIR)."""
        for _argv, pid in self.processes:
            if _inuse.is_running(pid):
                return pid
        return _inuse.InUse(environ=False).uses(self.path)

    def still_used(self, pid):
        """The note on this dir when *pid* (see user) still runs at the end of the run."""
        started = [argv for argv, started_pid in self.processes if started_pid == pid]
        return ("%s: still used by pid %s (%s), a child of %s, when the run ended; removed "
                "once no process uses it (a process that only has it as its temp dir is "
                "waited for %d s)" % (self.path, pid, _command_line(pid, started),
                                     self.owner, INHERITED_WAIT_SECONDS))


def _command_line(pid, started):
    """What *pid* runs: as /proc says, else as it was started (*started*: [argv] if this
    run started it; without /proc that is all there is)."""
    argv = _inuse.process_argv(pid)
    if argv is None and started:
        argv = started[0]
    return "gone" if argv is None else _origins.command_line(argv)


def wait_until_free(scopes, seconds):
    """Wait up to *seconds* for no live process to use any of *scopes*; those still in
    use then (see ChildDir.user), as a list."""
    deadline = time.monotonic() + seconds
    running = list(scopes)
    while running:
        running = [scope for scope in running if scope.user() is not None]
        if not running or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    return running


class ChildDirs(object):
    """Makes child dirs in a run root, wraps process starts to hand them to children, and
    keeps the dirs of children that outlive their starter (see end_dir)."""

    def __init__(self, root, current_dir):
        """*current_dir()* gives the ChildDir of whoever is running now, or None."""
        self.root = root
        self.current_dir = current_dir
        self.lingering = []  # (scope, observation) whose processes outlived their starter
        self._quiet = []  # (scope, observation) not yet asked about inheritors (see end_dir)
        self._started = {}  # id(record) -> pids of the children it started
        self._sandbox = os.fsencode(root.tmp)
        self._pid = os.getpid()
        self._next = 0
        self._free = []  # (name, HeldDirectory) of empty dirs to serve again
        self._pids_seen = None  # the latest listing of /proc a released dir took
        self._saved = []

    def dir_for(self, record):
        """A new child dir for the processes that *record*'s test or fixture starts (or
        the running fixtures', if *record* is None); None as for new_dir."""
        scope = self.new_dir()
        if scope is not None and record is not None:
            scope.owner, scope.record = record.id, record
        return scope

    def end_dir(self, scope, record, observation):
        """The starter *record* ended: candidates (from *observation*) for what its
        children left, or none yet if one of them (or theirs) still runs: the scope
        then lingers, and is judged later."""
        scope.owner, scope.record = record.id, record
        self._started[id(record)] = [pid for _argv, pid in scope.processes]
        try:
            if scope.running_child() is None and not scope.held.names():
                # Nothing to judge now: whether a grandchild still has the dir is asked
                # later, of several at once (see _ask_quiet).
                scope.names_at_end = frozenset()
                self._quiet.append((scope, observation))
                return []
            if scope.user() is not None:
                scope.names_at_end = frozenset(scope.held.names())
                self.lingering.append((scope, observation))
                return []
            candidates = observation.children_of(scope)
        except OSError as error:
            _unlisted(scope, error)
            return []
        if not candidates:
            self.release(scope)
        return candidates

    def take_lingering(self, seconds):
        """Wait up to *seconds* for the processes of the lingering dirs to exit:
        ([(scope, observation)] free now, [scope] still in use); none linger after."""
        self._ask_quiet()
        lingering, self.lingering = self.lingering, []
        running = wait_until_free([scope for scope, _ in lingering], seconds)
        return [(scope, obs) for scope, obs in lingering if scope not in running], running

    def alive_during(self, record):
        """The pids of the children that were running while *record*'s stretch ran: its
        own, and earlier ones that outlived their starter."""
        return list(self._started.get(id(record), ())) + [
            pid for scope, _observation in self.lingering for _argv, pid in scope.processes]

    def _ask_quiet(self):
        """Release the quiet dirs (see end_dir) that no process uses and that are still
        empty; the others linger, as if their starter had just ended. One listing of
        /proc, and one read of each new process's environment, serve them all."""
        quiet, self._quiet = self._quiet, []
        if not quiet:
            return
        now = _inuse.pids()
        temp_dirs = _inuse.environ_temp_dirs(
            older=frozenset.intersection(*[scope.older for scope, _obs in quiet]), now=now)
        for scope, observation in quiet:
            try:
                if scope.user(now, temp_dirs) is None and not scope.held.names():
                    self.release(scope)
                else:
                    self.lingering.append((scope, observation))
            except OSError as error:
                _unlisted(scope, error)

    def new_dir(self):
        """A new, empty child dir; None if the root was replaced or no name is left."""
        if self.root.held.closed:
            return None
        if not self._free and len(self._quiet) >= _QUIET_BATCH:
            self._ask_quiet()
        while self._free:
            name, held = self._free.pop()
            try:
                if not held.is_replaced() and not held.names():
                    # An earlier listing serves: /proc is listed once a test, not twice.
                    return ChildDir(name, os.path.join(self.root.path, name), held,
                                    older=self._pids_seen)
            except OSError:
                pass
            held.close()  # not empty, or not ours: left to the root's end
        # Checked here, not first: a kept dir's own check above fails if the root moved.
        if self.root.held.is_replaced():
            return None
        while True:
            if self._next < len(_NAME_CHARS) ** _NAME_LENGTH:
                name, self._next = _name(self._next), self._next + 1
            else:
                return None
            target, at = self.root.held.place(name)
            try:
                with own_umask():
                    os.mkdir(target, 0o700, **at)
            except FileExistsError:
                continue
            path = os.path.join(self.root.path, name)
            return ChildDir(name, path, HeldDirectory(path, self.root.held))

    def release(self, scope):
        """Keep an empty child dir to serve another scope: making and removing one for
        each test that starts a child cost a mkdir and an rmdir each (the root's end
        removes what is left)."""
        self._free.append((scope.name, scope.held))
        self._pids_seen = scope.pids_seen

    def close(self):
        """Let go of the kept empty dirs (see release)."""
        for _name, held in self._free:
            held.close()
        self._free = []

    # -- the wrapped process starts --------------------------------------------

    def install(self):
        # Imported first, so that the alias subprocess binds (3.11+) is the original.
        import subprocess
        process_os = sys.modules["os"]  # the module every caller has, not tempguard's copy
        targets = [(process_os, "fork", self._fork), (process_os, "forkpty", self._fork),
                   (process_os, "posix_spawn", self._spawn),
                   (process_os, "posix_spawnp", self._spawn),
                   (_capabilities.posix_subprocess, "fork_exec", self._fork_exec),
                   # subprocess's alias of it (3.11+): POSIX only, as the module is.
                   (subprocess if _capabilities.posix_subprocess else None, "_fork_exec",
                    self._fork_exec)]
        for module, name, wrap in targets:
            original = getattr(module, name, None) if module is not None else None
            if original is not None:
                wrapper = wrap(original)
                setattr(module, name, wrapper)
                self._saved.append((module, name, original, wrapper))

    def uninstall(self):
        for module, name, original, wrapper in reversed(self._saved):
            if getattr(module, name, None) is wrapper:
                setattr(module, name, original)
        self._saved = []

    def _scope_for(self, argv):
        if os.getpid() != self._pid:
            return None  # a forked child: its environment already says where
        if argv is not None and any(helper in os.fsdecode(arg) for arg in argv
                                    if isinstance(arg, (str, bytes))
                                    for helper in _SHARED_HELPERS):
            return None
        return self.current_dir()

    def _fork_exec(self, original):
        def fork_exec(args, executable_list, close_fds, pass_fds, cwd, env, *rest):
            scope = self._scope_for(args)
            if scope is None:
                return original(args, executable_list, close_fds, pass_fds, cwd, env, *rest)
            with _inherited(env is None, self._sandbox, scope.path):
                pid = original(args, executable_list, close_fds, pass_fds, cwd,
                               _child_env(env, self._sandbox, scope.path), *rest)
            scope.processes.append(([os.fsdecode(arg) for arg in args], pid))
            return pid
        return fork_exec

    def _spawn(self, original):
        def posix_spawn(path, argv, env, *args, **kwargs):
            scope = self._scope_for(argv)
            if scope is None:
                return original(path, argv, env, *args, **kwargs)
            with _inherited(env is None, self._sandbox, scope.path):
                pid = original(path, argv, _spawn_env(env, self._sandbox, scope.path),
                               *args, **kwargs)
            scope.processes.append(([os.fsdecode(arg) for arg in argv], pid))
            return pid
        return posix_spawn

    def _fork(self, original):
        def fork():
            scope = self._scope_for(None)
            if scope is None:
                return original()
            forked = original()
            pid = forked[0] if isinstance(forked, tuple) else forked
            if pid == 0:
                _enter(scope.path, self._sandbox)
            else:
                scope.processes.append((None, pid))
            return forked
        return fork


def _unlisted(scope, error):
    scope.record.notes.append("%s: could not be listed (%s); left alone" % (scope.path, error))


def _name(number):
    chars = []
    for _ in range(_NAME_LENGTH):
        number, digit = divmod(number, len(_NAME_CHARS))
        chars.append(_NAME_CHARS[digit])
    return "".join(reversed(chars))


def _is_redirected(key, value, sandbox):
    return os.fsencode(key) in _ENV_NAMES and os.fsencode(value) == sandbox


def _redirected_keys(sandbox):
    """The temp dir variables of this process's environment that point at the sandbox."""
    get = _inuse.environ_getter()
    return [key for key in _ENV_NAMES if get(key) == sandbox]


def _spawn_env(env, sandbox, target):
    """posix_spawn's environment mapping with the sandbox's temp dir values pointing at
    *target*; None (inherit, 3.13+) stays None (see _inherited)."""
    if env is None:
        return None
    return {key: (target if isinstance(value, str) else os.fsencode(target))
            if _is_redirected(key, value, sandbox) else value
            for key, value in env.items()}


def _child_env(env, sandbox, target):
    """fork_exec's environment list with the sandbox's temp dir values pointing at
    *target*; None (inherit) stays None (see _inherited)."""
    if env is None:
        return None
    changed = []
    for item in env:
        key, _sep, value = os.fsencode(item).partition(b"=")
        changed.append(key + b"=" + os.fsencode(target) if _is_redirected(key, value, sandbox)
                       else item)
    return changed


@contextlib.contextmanager
def _inherited(inherits, sandbox, target):
    """While a child that inherits the environment starts: the process environment's
    temp dir values that point at the sandbox point at *target*.

    Changed with putenv only, never rebuilt from os.environ: variables set with
    os.putenv alone must reach the child as they would without tempguard.
    """
    changed = _redirected_keys(sandbox) if inherits else []
    for key in changed:
        os.putenv(key, os.fsencode(target))
    try:
        yield
    finally:
        for key in changed:
            os.putenv(key, sandbox)


def _enter(path, sandbox):
    """In a forked child: make the scope's dir its temp dir, where the sandbox was."""
    if tempfile.tempdir is not None and os.fsencode(tempfile.tempdir) == sandbox:
        tempfile.tempdir = path
    for key in _redirected_keys(sandbox):
        os.environ[os.fsdecode(key)] = path
