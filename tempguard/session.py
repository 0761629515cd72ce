"""A guarded run: its sandbox, watched directories, fixture scopes and per-test guards.

The runner's result and the mixin both drive a Session; it knows nothing of
unittest beyond test ids.
"""

import atexit
import collections
import gc
import os
import stat
import tempfile
import time

from . import cleanup as _cleanup
from . import report as _report
from . import sandbox as _sandbox
from .tracking import TrackingContext, set_fallback

__all__ = ["LEAK_POLICIES", "KEEP_POLICIES", "Leak", "Settings", "TestRecord",
           "check_report_path", "DirectoryWatch", "TestGuard", "Session", "active_session"]

LEAK_POLICIES = ("ignore", "warn", "fail")
KEEP_POLICIES = ("none", "failed", "all")
DEFAULT_KEEP_RUNS = 3

Leak = collections.namedtuple("Leak", "path kind where")
Leak.__doc__ = """A leaked entry: kind is file or dir, where is sandbox or outside."""


class Settings(object):
    """Run settings: explicit arguments win over TEMPGUARD_* environment variables."""

    def __init__(self, leaks=None, keep=None, keep_runs=None, report=None, watch=None,
                 environ=None):
        environ = os.environ if environ is None else environ
        self.leaks = _choice("leaks", leaks, environ.get("TEMPGUARD_LEAKS"), LEAK_POLICIES, "warn")
        self.keep = _choice("keep", keep, environ.get("TEMPGUARD_KEEP"), KEEP_POLICIES, "failed")
        self.keep_runs = _count_setting("keep_runs", keep_runs, environ.get("TEMPGUARD_KEEP_RUNS"))
        report = report if report is not None else environ.get("TEMPGUARD_REPORT") or None
        self.report = None if report is None else check_report_path(report)
        self.watch = [os.path.abspath(os.fspath(path)) for path in (watch or ())]
        for path in self.watch:
            if not os.path.isdir(path):
                raise NotADirectoryError("--watch %s: not a directory" % path)


def check_report_path(path):
    """An absolute report path (tests may chdir), checked now rather than after the run."""
    path = os.path.abspath(os.fspath(path))
    if os.path.isdir(path):
        raise IsADirectoryError("report %s: is a directory" % path)
    if not os.path.isdir(os.path.dirname(path)):
        raise FileNotFoundError("report %s: no directory %s" % (path, os.path.dirname(path)))
    return path


def _choice(name, value, env_value, choices, default):
    source = name if value is not None else "TEMPGUARD_" + name.upper()
    value = value if value is not None else env_value or default
    if value not in choices:
        raise ValueError("%s must be one of %s, not %r" % (source, ", ".join(choices), value))
    return value


def _count_setting(name, value, env_value):
    source = name if value is not None else "TEMPGUARD_" + name.upper()
    value = value if value is not None else env_value
    if value is None or value == "":
        return DEFAULT_KEEP_RUNS
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = -1
    if number < 0 or isinstance(value, bool):
        raise ValueError("%s must be a whole number >= 0, not %r" % (source, value))
    return number


class TestRecord(object):
    """What one test (or fixture) made, cleaned, leaked and kept."""

    __slots__ = ("id", "outcome", "created", "cleaned", "bytes", "cleanup_seconds", "leaks",
                 "kept", "cleanup_errors")

    def __init__(self, test_id):
        self.id = test_id
        self.outcome = None
        self.created = self.cleaned = self.bytes = 0
        self.cleanup_seconds = 0.0
        self.leaks = []
        self.kept = None
        self.cleanup_errors = []

    def add_cleanup(self, context_stats, result):
        self.created += context_stats.created + context_stats.adopted
        self.cleaned += result.removed
        self.bytes += context_stats.bytes
        self.cleanup_seconds += result.seconds
        self.cleanup_errors.extend(str(problem) for problem in result.problems)

    def as_json(self):
        return {"id": self.id, "outcome": self.outcome, "created": self.created,
                "cleaned": self.cleaned, "bytes": self.bytes,
                "leaks": [dict(leak._asdict()) for leak in self.leaks],
                "kept": self.kept, "cleanup_errors": list(self.cleanup_errors)}


class DirectoryWatch(object):
    """Notices entries that appear in a directory we do not own.

    A full listing is taken only when the directory's mtime moved, or was too
    recent to trust, so an idle directory with many entries costs one stat.
    """

    def __init__(self, path):
        self.path = path
        self._names = frozenset()
        self._mtime = None
        self._trusted = False
        # fstat on an open directory skips the path lookup: half the cost of a stat.
        self._target = path
        if os.stat in os.supports_fd:
            self._target = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
                                   | getattr(os, "O_CLOEXEC", 0))

    def close(self):
        if not isinstance(self._target, str):
            os.close(self._target)
            self._target = self.path

    def mark(self, fresh=True):
        """The entries now; pass it to appeared_since() later.

        With fresh=False, the entries as of the last check, when a new
        stretch of time starts exactly where the last one was checked.
        """
        if fresh and not self._is_unchanged():
            self._relist()
        return self._names

    def appeared_since(self, mark):
        """Names that exist now and did not at *mark*."""
        if self._names is mark and self._is_unchanged():
            return []
        self._relist()
        return sorted(self._names - mark)

    def _is_unchanged(self):
        try:
            return self._trusted and os.stat(self._target).st_mtime_ns == self._mtime
        except OSError:
            return False

    def _relist(self):
        try:
            before = os.stat(self._target).st_mtime_ns
            names = frozenset(os.listdir(self.path))
            after = os.stat(self._target).st_mtime_ns
        except OSError:
            self._names, self._mtime, self._trusted = frozenset(), None, False
            return
        # An entry added within the filesystem's timestamp granularity of our
        # listing could leave the mtime unchanged: trust only older mtimes.
        granularity = 2.0 if after % 1000000000 == 0 else 0.05
        self._trusted = before == after and time.time() - after / 1e9 > granularity
        self._names, self._mtime = names, after


class _Observation(object):
    """What appeared in the sandbox and the watched directories during one stretch of time."""

    def __init__(self, session, continuing=False):
        self.session = session
        fresh = not continuing
        self._sandbox_mark = session.sandbox_watch.mark(fresh)
        self._marks = [watch.mark(fresh) for watch in session.watches]

    def appeared(self, exclude=()):
        """Leaks seen now: new sandbox entries and new outside entries, minus *exclude*."""
        leaks = []
        tmp = self.session.root.tmp
        for name in self.session.sandbox_watch.appeared_since(self._sandbox_mark):
            path = os.path.join(tmp, name)
            if path not in exclude:
                leaks.append(Leak(path, _kind(path), "sandbox"))
        for watch, mark in zip(self.session.watches, self._marks):
            for name in watch.appeared_since(mark):
                if not name.startswith(_sandbox.RUN_PREFIX):
                    path = os.path.join(watch.path, name)
                    leaks.append(Leak(path, _kind(path), "outside"))
        return leaks

    def settled_leaks(self, exclude=()):
        """Leaks that survive a garbage collection (finalizers may remove temp files)."""
        leaks = self.appeared(exclude)
        if leaks:
            gc.collect()
            leaks = [leak for leak in leaks if os.path.lexists(leak.path)]
        return leaks


def _kind(path):
    try:
        return "dir" if stat.S_ISDIR(os.lstat(path).st_mode) else "file"
    except OSError:
        return "file"


class TestGuard(object):
    """One test's tracking context and leak watch, from its start to its finish."""

    def __init__(self, session, test_id, continuing=False, observation=None):
        self.session = session
        self.record = TestRecord(test_id)
        self.finished = False
        self._context = None
        if not session.owns_run:
            session.redirect.apply()
            self._saved_fallback = set_fallback(session.context_for_now)
        self._observation = observation or _Observation(session, continuing)
        # A test run inside another guarded test is that test's business, not the run's.
        self.nested = bool(session._guards)
        session._guards.append(self)

    @property
    def context(self):
        """The test's TrackingContext, made when first asked for: most tests never ask."""
        if self._context is None:
            self._context = TrackingContext(self.record.id)
        return self._context

    def _tracked(self):
        if self._context is None:
            return set()
        return set(str(path) for path in self._context.tracked_paths())

    def find_leaks(self):
        """Untracked entries that appeared since the test started (checked now)."""
        return self._observation.settled_leaks(self._tracked())

    def finish(self, failed, keep_policy):
        """Clean (or keep) the test's files, find its leaks, and restore tempfile."""
        if self.finished:
            return self.record
        self.finished = True
        if self in self.session._guards:
            self.session._guards.remove(self)
        record = self.record
        try:
            if keep_policy == "all" or (keep_policy == "failed" and failed):
                self._keep()
            if self._context is not None:
                record.add_cleanup(self._context.stats, self._context.close())
            if record.kept is None:
                tracked_left = self._tracked() if record.cleanup_errors else ()
                record.leaks = self._observation.settled_leaks(tracked_left)
                sandboxed = [leak.path for leak in record.leaks if leak.where == "sandbox"]
                if sandboxed:
                    removal = _cleanup.remove_paths(sandboxed)
                    record.cleanup_seconds += removal.seconds
                    record.cleanup_errors.extend(str(problem) for problem in removal.problems)
        finally:
            if self.session.owns_run:
                self.session.redirect.reassert()
            else:
                self.session.redirect.restore()
                set_fallback(self._saved_fallback)
        if not self.nested:
            self.session.records.append(record)
        return record

    def _keep(self):
        """Move the test's tracked files and sandbox leaks into a kept directory, if any."""
        tracked = self._tracked()
        self.record.leaks = self._observation.settled_leaks(tracked)
        keep = sorted(tracked) + [leak.path for leak in self.record.leaks
                                  if leak.where == "sandbox"]
        if keep:
            self.record.kept = self.session.root.keep_dir(self.record.id)
            _move_into(keep, self.record.kept)


def _move_into(paths, directory):
    for path in paths:
        path = str(path)
        try:
            os.rename(path, os.path.join(directory, os.path.basename(path)))
        except OSError:
            # Another filesystem, or gone: the normal cleanup deals with it.
            continue


class _Scope(object):
    """A class or module fixture scope: what its setUp made, checked when it ends."""

    def __init__(self, scope_id):
        self.record = TestRecord(scope_id)
        self.contexts = []
        self.pending = []


class Session(object):
    """One guarded run: a run root with its sandbox, watched directories and records.

    With *owns_run* (the runner), tempfile points into the sandbox for the
    whole run; otherwise (the mixin under a foreign runner) only during tests.
    """

    def __init__(self, settings, owns_run=True):
        self.settings = settings
        self.owns_run = owns_run
        self.records = []
        self.fixture_records = []
        self.root = None
        self.redirect = None
        self.sandbox_watch = None
        self.watches = []
        self.system_tempdir = None
        self._pid = os.getpid()
        self._scopes = collections.OrderedDict()
        self._phase = None
        self._phase_context = None
        self._saved_fallback = None
        self._guards = []
        self.started = self.stopped = False

    def start(self):
        saved = tempfile.tempdir
        self.system_tempdir = tempfile.gettempdir()
        tempfile.tempdir = saved
        self.root = _sandbox.RunRoot.create(self.system_tempdir)
        self.redirect = _sandbox.TempdirRedirect(self.root.tmp, self.system_tempdir)
        self.sandbox_watch = DirectoryWatch(self.root.tmp)
        self.watches = [DirectoryWatch(path) for path in
                        [self.system_tempdir] + self.settings.watch]
        if self.owns_run:
            self.redirect.apply()
            self._saved_fallback = set_fallback(self.context_for_now)
        _active.append(self)
        atexit.register(self.stop)
        self.started = True
        return self

    def stop(self):
        """End the run: close fixture scopes, restore tempfile, remove the sandbox."""
        if self.stopped or not self.started or os.getpid() != self._pid:
            return []
        self.stopped = True
        atexit.unregister(self.stop)
        try:
            if self._phase is not None:
                self.end_phase(None, None)
            leaked = self.close_scopes(list(self._scopes))
        finally:
            if self.owns_run:
                self.redirect.restore()
                set_fallback(self._saved_fallback)
            if self in _active:
                _active.remove(self)
            for watch in [self.sandbox_watch] + self.watches:
                watch.close()
            self.root.finish()
            own_kept = os.path.isdir(self.root.path)
            if not self.owns_run and self.settings.report:
                _report.write_json(self.settings.report,
                                   _report.run_report(self.records, self.fixture_records))
            _sandbox.prune_runs(self.system_tempdir,
                                max(0, self.settings.keep_runs - int(own_kept)),
                                exclude=(self.root.path,))
        return leaked

    def begin_test(self, test_id, continuing=False, observation=None):
        """A guard for one test; *continuing* when it starts right where a phase ended,
        or going on with *observation*, a phase's, when no fixture ran in between."""
        return TestGuard(self, test_id, continuing, observation)

    def current_guard(self):
        """The guard of the innermost running test, or None."""
        return self._guards[-1] if self._guards else None

    # -- fixture phases (what happens between tests) --------------------------

    def begin_phase(self, continuing=False):
        """Start watching a stretch between tests: class and module fixtures run there."""
        if not self.owns_run:
            self.redirect.apply()
            self._saved_fallback = set_fallback(self.context_for_now)
        self._phase = _Observation(self, continuing)

    def context_for_now(self):
        """Where files go when no context is active: the running test's, else the
        context of this stretch between tests (made when first asked for)."""
        if self._guards:
            return self._guards[-1].context
        if self._phase_context is None:
            self._phase_context = TrackingContext("fixtures")
        return self._phase_context

    def _take_phase(self):
        observation, context = self._phase, self._phase_context
        self._phase = self._phase_context = None
        if not self.owns_run:
            self.redirect.restore()
            set_fallback(self._saved_fallback)
        return observation, context

    def merge_phase(self):
        """End a phase in which no fixture ran; the next test goes on with its observation.

        Between two tests of one class only unittest runs, so what appears
        there is the next test's business; this saves two stats a test.
        """
        observation, context = self._take_phase()
        if context is not None:
            self._attach(next(reversed(self._scopes), ("run",)), "run", context, [])
        return observation

    def end_phase(self, scope_key, scope_id):
        """Stop watching and hand what appeared to the scope *scope_key* (made if new)."""
        observation, context = self._take_phase()
        appeared = observation.appeared()
        if scope_key is None:
            scope_key, scope_id = next(reversed(self._scopes), ("run",)), "run"
        if context is not None or appeared:
            self._attach(scope_key, scope_id, context, appeared)

    def _attach(self, scope_key, scope_id, context, appeared):
        scope = self._scopes.get(scope_key)
        if scope is None:
            scope = self._scopes[scope_key] = _Scope(scope_id)
        if context is not None:
            scope.contexts.append(context)
        scope.pending.extend(appeared)

    def close_scopes(self, keys):
        """End these scopes: clean their contexts, and report what their fixtures left."""
        leaked = []
        for key in keys:
            scope = self._scopes.pop(key, None)
            if scope is None:
                continue
            record = scope.record
            for context in scope.contexts:
                record.add_cleanup(context.stats, context.close())
            record.leaks = [leak for leak in scope.pending if os.path.lexists(leak.path)]
            if record.leaks:
                gc.collect()
                record.leaks = [leak for leak in record.leaks if os.path.lexists(leak.path)]
            removal = _cleanup.remove_paths(
                [leak.path for leak in record.leaks if leak.where == "sandbox"])
            record.cleanup_errors.extend(str(problem) for problem in removal.problems)
            if record.created or record.leaks or record.cleanup_errors:
                self.fixture_records.append(record)
            if record.leaks:
                leaked.append(record)
        return leaked

    def open_scope_keys(self):
        return list(self._scopes)


_active = []


def active_session():
    """The innermost session running in this process, or None."""
    return _active[-1] if _active else None
