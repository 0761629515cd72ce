"""A guarded run's life cycle: its run root, watches and process-wide changes, start to exit.

The runner's result, the mixin and the pytest plugin each drive a Session,
which knows nothing of unittest beyond test ids. Its parts each have a
module: the per-test guard (guard), the phases between tests and their
fixture scopes (scopes), the verdicts (judge), directory watching (watch),
and the hand-off to a supervisor (handoff).
"""

import atexit
import collections
import contextlib
import sys
import tempfile

from .real import os
from . import capabilities as _capabilities
from . import baseline as _baseline
from . import children as _children
from . import cleanup as _cleanup
from . import closing as _closing
from . import handoff as _handoff
from . import held as _held
from . import invocation as _invocation
from . import jsonreport as _jsonreport
from .keep import Keeper
from . import origins as _origins
from . import output as _output
from . import ownership as _ownership
from . import reaper as _reaper
from . import sandbox as _sandbox
from . import watch as _watch
from .guard import TestGuard
from .judge import Judge
from .records import run_record
from .scopes import FixtureScopes

__all__ = ["Session", "active_session"]


class Session(object):
    """One guarded run: a run root with its sandbox, watched directories and records.

    With *owns_run* (the runner), tempfile points into the sandbox for the
    whole run; otherwise (the mixin under a foreign runner) only during tests
    and fixtures. With *root*, the session joins a run root its supervisor
    made, and hands what must be judged after exit to it over *channel* (see
    handoff) instead of judging it itself. With *inside*, the held run root
    of a parallel run's parent, the session is one worker's: its run root is
    made in the parent's (see RunRoot.create).
    """

    def __init__(self, settings, owns_run=True, root=None, inside=None, channel=None):
        self.settings = settings
        self.owns_run = owns_run
        self.records = []
        self.fixture_records = []
        self.root = root
        self.supervised = root is not None
        self.keeper = Keeper(settings)
        self.judge = Judge(settings, on_confirm=self.list_record,
                           hint_pids=lambda record: self.children.alive_during(record),
                           keeper=self.keeper)
        self.scopes = FixtureScopes(self)
        self.redirect = None
        self.sandbox_watch = None
        self.watches = []
        self.all_watches = []
        self.system_tempdir = None
        self.origins = None
        self.children = None
        self.ignored_prefixes = ()  # names in watched dirs that belong to the harness
        self.children_running = []  # (scope, pid) still writing when the run had to end
        self.on_late = None  # given [(record, leaks)] judged at exit, instead of printing them
        self.started = self.stopped = False
        self._handover = _handoff.Handover(channel) if self.supervised else None
        self._inside = inside
        self._report_part = None
        self._counts = None
        self._root_finished = False
        self._pid = os.getpid()
        self._guards = []
        self._undo = contextlib.ExitStack()  # the process-wide changes, undone last first

    def start(self):
        """Make (or join) the run root and watches, then make the process-wide changes:
        each is undone by stop(), last first, or at once if a later one fails."""
        _baseline.resolve(self.settings)
        saved = tempfile.tempdir
        given = tempfile.gettempdir()
        tempfile.tempdir = saved
        # A supervisor made the root in the temp dir it saw, a worker's parent its own;
        # a temp dir that is a link (or under one) is resolved once, and held.
        self.system_tempdir = (os.path.dirname(self.root.path) if self.supervised
                               else os.path.dirname(self._inside.path) if self._inside
                               else os.path.realpath(given))
        made_root = self.root is None
        if made_root:
            self.root = _sandbox.RunRoot.create(self.system_tempdir, _invocation.current_id(),
                                                inside=self._inside)
        try:
            self._report_part = _invocation.part_id()
            self.keeper.open(self.root, self.root.invocation)
            self._undo.callback(self.keeper.close)
            self._watch(given)
            self._change_process()
        except BaseException:
            self._undo.close()
            for watch in self.watches:
                watch.close()
            if made_root:
                self.root.finish()
            raise
        self.started = True
        return self

    def _watch(self, given):
        self.redirect = _sandbox.TempdirRedirect(self.root.tmp, self.context_for_now)
        self.sandbox_watch = _watch.DirectoryWatch(self.root.sandbox, "sandbox")
        self.all_watches = [self.sandbox_watch]
        for path in _unique([self.system_tempdir] + self.settings.watch):
            self.watches.append(_watch.DirectoryWatch(_held.HeldDirectory(path), "outside",
                                                      self.ignored_prefixes))
            self.all_watches.append(self.watches[-1])
        if self.settings.keep_dir:
            _watch.ignore(self.watches, self.settings.keep_dir)  # made by the run, for CI
        if self.settings.report:
            # No leak where it is written: the other processes of a parallel run write
            # it (and its partial files) while this one watches its directory.
            _watch.ignore(self.watches, self.settings.report, prefix=True)
        linked = list(self.settings.linked)
        # A temp dir that is a link is said; one under a linked parent is not: on macOS
        # every temp dir is (/var leads to /private/var).
        if not self._inside and _cleanup.is_link_at(given.rstrip(os.sep) or os.sep):
            linked.insert(0, (given, self.system_tempdir))
        for path, real in _unique(linked):
            self.note("%s: a link to %s; the directory it leads to was watched" % (path, real))

    def _change_process(self):
        """The process-wide changes, each registered with its undo as it is made."""
        if self.owns_run:
            self.redirect.apply()  # tempfile, TMPDIR and the tracking fallback
            self._undo.callback(self.redirect.restore)
        if self.settings.origins == "on" and _origins.AVAILABLE:
            self.origins = _origins.Recorder(watch.path for watch in self.all_watches)
            self.origins.start()  # the audit recorder
            self._undo.callback(self.origins.stop)
        self.children = _children.ChildDirs(self.root, self._child_dir_for_now)
        self.children.install()  # the process wrappers
        self._undo.callback(self.children.uninstall)
        self._undo.callback(self.children.close)
        _ownership.atexit_log.start()  # the atexit patch
        self._undo.callback(_leave_registry, self)
        _active.append(self)  # the registry
        _started.append(self)

    def stop(self, before_removal=None):
        """End the run: close fixture scopes, undo the process-wide changes; judge what
        no owner waits for. *before_removal(confirmed)* runs while what was confirmed is
        still there (to keep a failed test's files).

        Returns [(record, leaks)] confirmed now, after the tests' lines. What
        waits for exit is judged by _at_exit, or, in a supervised run, handed
        to the supervisor by hand_off().
        """
        if self.stopped or not self.started or os.getpid() != self._pid:
            return []
        self.stopped = True
        confirmed = []
        try:
            confirmed = self.scopes.close_all()
            for level in ("class", "module"):
                confirmed += self.judge.judge_held(level, level)
            confirmed += self._judge_lingering()
            if before_removal is not None:
                before_removal(confirmed)
            self.judge.remove_judged()
        finally:
            self._undo.close()
            for notice in self.root.replaced() + [
                    "%s: the watched directory was replaced; the one first opened was watched"
                    % watch.path for watch in self.watches if watch.held.is_replaced()]:
                self.note(notice)
            if not self.supervised and not self.judge.waits_for_exit():
                self._finish_root()
        return confirmed

    def ignore_entry(self, path):
        """*path*, an entry of a watched directory that the harness owns (pytest's
        --basetemp), is never a candidate."""
        _watch.ignore(self.watches, path)

    # -- tests and what they run in ---------------------------------------------

    def begin_test(self, test_id, continuing=False, observation=None):
        """A guard for one test; *continuing* when it starts right where a phase ended,
        or going on with *observation*, a phase's, when no fixture ran in between."""
        return TestGuard(self, test_id, continuing, observation)

    def push_guard(self, guard):
        """*guard*'s test runs now; True if it runs inside another guarded test."""
        self._guards.append(guard)
        return len(self._guards) > 1

    def pop_guard(self, guard):
        if guard in self._guards:
            self._guards.remove(guard)

    def current_guard(self):
        """The guard of the innermost running test, or None."""
        return self._guards[-1] if self._guards else None

    def context_for_now(self):
        """Where files go when no context is active: the running test's, else the
        context of this stretch between tests (see FixtureScopes.phase_context)."""
        return self._guards[-1].context if self._guards else self.scopes.phase_context()

    def forget_origins(self):
        if self.origins is not None:
            self.origins.forget()

    # -- children ------------------------------------------------------------------

    def _child_dir_for_now(self):
        """The child dir for a process started now: the running test's, or the running
        fixtures'; None outside both (the child then writes in the sandbox)."""
        if self._guards:
            return self._guards[-1].child_dir_for_now(self.children)
        return self.scopes.phase_child_dir()

    def _judge_lingering(self):
        """Judge the dirs of children that outlived their starter, once they have exited;
        wait CHILD_GRACE_SECONDS (see children) for them. A dir still in use is removed later by a
        reaper (see _finish_root)."""
        confirmed = []
        # A supervisor waits for them after the test process ends: waited here, the grace
        # was counted in unittest's "Ran N tests in Ts".
        free, running = self.children.take_lingering(0 if self.supervised
                                                     else _children.CHILD_GRACE_SECONDS)
        for scope, observation in free:
            confirmed += self.judge.judge(self.judge.settle(observation.children_of(scope)),
                                          "child", None)
        for scope in running:
            pid = scope.user()
            if not self.supervised:  # else the supervisor waits for it again, and says
                scope.record.notes.append(scope.still_used(pid))
            self.list_record(scope.record)
            self.children_running.append((scope, pid))
        return confirmed

    # -- the end: hand-off, exit, report -------------------------------------------

    def hand_off(self, tail=None, counts=None):
        """Give the supervisor what it must judge after exit, unittest's *counts*, and
        the deferred *tail* (unittest's closing lines) if any. False if the
        channel was lost (the test process then says so at exit).

        Done only once it is done: cut short (a second Ctrl-C), it is made again
        at exit, since what was judged is removed and must be reported.
        """
        if self._handover is None:
            return False
        for candidate, _confirmed in self.judge.waiting_for_exit():
            self.list_record(candidate.record)
        # Every record, where a report lists them or the baseline asks which tests ran.
        complete = bool(self.settings.report or self.settings.baseline)
        return self._handover.send(self.judge, self.records, self.fixture_records,
                                   [scope for scope, _pid in self.children_running], counts,
                                   tail, complete)

    def refuse(self, error):
        """No test runs: a usage error (*error*, its text) was found before the first. A
        supervisor is told, and reports nothing."""
        if self._handover is not None:
            self._handover.refuse(error)

    def note(self, text):
        """Add a note to the run's own record."""
        run_record(self.fixture_records).notes.append(text)

    def _at_exit(self):
        """At interpreter exit: stop if nobody did, then judge what waited for exit."""
        if os.getpid() != self._pid:
            return
        stopped_here = not self.stopped
        self.stop()
        if stopped_here and self.children_running and not self.supervised:
            _output.write_exit_notes(sys.stderr, [(scope.record, scope.still_used(pid))
                                                  for scope, pid in self.children_running])
        if self.supervised:
            self.hand_off()
            if self._handover.problem is not None:
                sys.stderr.write("\ntempguard: could not hand this run over to its "
                                 "supervisor: %s; what its tests left in the sandbox is "
                                 "judged as the run's\n" % self._handover.problem)
            return
        if self.root.held.closed:
            return
        late, still_owned = self.judge.judge_exit()
        if late and self.on_late is not None:
            self.on_late(late)
        elif late:
            _output.write_late_section(sys.stderr, late, self.settings)
            if self.owns_run:  # else _finish_root concludes, below
                self._conclude(self._counts, late=True)
        if still_owned:
            self.root.leave()
        else:
            self._finish_root()

    def _finish_root(self):
        """Remove the run root, or hand it to a reaper while children of the run still
        use their dirs; once."""
        if self._root_finished:
            return
        self._root_finished = True
        for watch in self.watches:
            watch.close()
        if self.children_running:
            problem = _reaper.remove_when_free(
                self.root, [scope for scope, _ in self.children_running], self.settings.keep_runs)
            if problem:
                self.note(problem)
        else:
            finish = self.root.close(self.settings.keep_runs)
            if not finish.ok:
                run_record(self.fixture_records).add_removal(finish)
        if not self.owns_run:
            self._conclude(None)  # the mixin under another runner: nobody else will

    def _conclude(self, counts, late=False):
        """Write what CI reads (see closing.conclude) where no runner writes a section: at
        the end of a mixin-only run, or again once exit judged more (*late*)."""
        _capabilities.say_reduced()  # no section's totals line said it
        for line in _closing.conclude(
                self.records, self.fixture_records, self.settings,
                lambda baseline: self.write_report(counts, baseline),
                _closing.fixed_entries(self.records, self.fixture_records, self.settings),
                late):
            sys.stderr.write(line + "\n")

    def write_report(self, counts=None, baseline=None):
        """Write the JSON report if one was asked for: in a parallel run, this session's
        part of its invocation's. Returns what was written, or None."""
        if self.settings.report:
            self._counts = counts
        return _jsonreport.write_run_report(self.records, self.fixture_records, self.settings,
                                            counts, baseline, self.root.invocation,
                                            self._report_part)

    def close(self, stream, counts=None, heading=None):
        """Write the run's section and what CI reads (see closing.close_run)."""
        _closing.close_run(stream, self.records, self.fixture_records, counts, self.settings,
                           lambda baseline: self.write_report(counts, baseline), heading)

    def list_record(self, record):
        """Put a fixture's record in the report once it has something to say."""
        if not record.is_listed:
            record.is_listed = True
            self.fixture_records.append(record)


def _unique(paths):
    return list(collections.OrderedDict.fromkeys(paths))


_active = []
_started = []


def _leave_registry(session):
    """Undo of a session's start in the registry: no longer active (and the atexit
    patch off once no session is); still judged at exit if it started."""
    if session in _active:
        _active.remove(session)
    if not _active:
        _ownership.atexit_log.stop()


def _at_exit():
    """Each session's last word. Registered when tempguard is imported, so that it runs
    after the exit handlers of what is imported later (atexit runs the last first)."""
    with _held.fd_headroom():
        for session in reversed(_started):
            try:
                session._at_exit()
            except OSError as error:
                _give_up(session, error)


def _give_up(session, error):
    """At exit, after *error*: say so, and leave the run root for a later run to prune."""
    sys.stderr.write("\ntempguard: could not finish the run at exit (%s); its run root %s "
                     "is left for a later run to prune\n" % (error, session.root.path))
    try:
        session.root.leave()
    except OSError:
        pass  # unmarked, it is pruned as a dead run's all the same


atexit.register(_at_exit)


def active_session():
    """The innermost session running in this process, or None."""
    return _active[-1] if _active else None
