"""A guarded run: its sandbox, watched directories, fixture scopes and per-test guards.

The runner's result and the mixin both drive a Session; it knows nothing of
unittest beyond test ids. Who may still remove an entry is ownership's
business; the session files each entry there and removes it once judged.
"""

import atexit
import collections
import gc
import os
import shutil
import stat
import sys
import tempfile

from . import children as _children
from . import cleanup as _cleanup
from . import held as _held
from . import invocation as _invocation
from . import origins as _origins
from . import output as _output
from . import ownership as _ownership
from . import reaper as _reaper
from . import report as _report
from . import sandbox as _sandbox
from . import watch as _watch
from . import wire as _wire
from .records import Leak, TestRecord
from .tracking import TrackingContext, set_fallback

__all__ = ["TestGuard", "Session", "active_session", "still_there",
           "move_into_kept", "is_unattributed", "CHILD_GRACE_SECONDS"]

# In a kept directory: what could not be copied there, and why.
NOT_KEPT_NOTE = "tempguard-not-kept.txt"
# How long the end of a run waits for children still writing in their starter's dir.
CHILD_GRACE_SECONDS = 3.0


_NOTHING = frozenset()


class TestGuard(object):
    """One test's tracking context and leak watch, from its start to its finish."""

    def __init__(self, session, test_id, continuing=False, observation=None):
        self.session = session
        self.record = TestRecord(test_id)
        self.finished = False
        self.left = self.confirmed = []
        self._context = None
        self.child_scope = None  # made when the test first starts a process
        self._taken = set()  # paths of what the test's fixtures made (see take_part)
        self._parts = self._owners = None  # made by the first subTest
        if not session.owns_run:
            session.redirect.apply()
            self._saved_fallback = set_fallback(session.context_for_now)
        # Between two tests of a class only unittest runs: the last test's state holds.
        self._saved_tempdir = (session.tempdir_state if observation is not None
                               and session.tempdir_state is not None
                               else session.redirect.snapshot())
        self._observation = observation or _watch.Observation(session, continuing)
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
            return self._taken or _NOTHING
        return set(str(path) for path in self._context.tracked_paths()) | self._taken

    def begin_part(self, owner):
        """Entries that appear from now until end_part() belong to *owner* (a subTest)."""
        if self._parts is None:
            self._parts, self._owners = [], {}
        self._parts.append((owner, _watch.Observation(self.session)))

    def end_part(self):
        owner, observation = self._parts.pop()
        for candidate in observation.appeared(owner, self.record, self._tracked()):
            self._owners.setdefault(_ownership.candidate_path(candidate), owner)

    def take_part(self, record):
        """End a part begun for a fixture: what appeared in it is *record*'s, not the
        test's; returns those candidates, for whoever judges the fixture's end."""
        _owner, observation = self._parts.pop()
        taken = observation.appeared(record.id, record, self._tracked())
        self._taken.update(_ownership.candidate_path(candidate) for candidate in taken)
        return taken

    def find_leaks(self):
        """Untracked entries that appeared since the test started, exist now and that
        nothing alive will remove: in the sandbox, or outside it with evidence that
        this run made them (see is_unattributed)."""
        candidates = self.session.settle(self._observation.appeared(
            self.record.id, self.record, self._tracked(), self._owners))
        owned = _ownership.exit_owned(candidates)
        return [self.session.as_leak(candidate, "test") for candidate in candidates
                if not is_unattributed(candidate, self.session.settings)
                and _ownership.candidate_path(candidate) not in owned]

    def finish(self, failed, keep_policy, later_owner=lambda: None):
        """Clean (or keep) the test's tracked files, and file what else it left.

        *later_owner()* tells the scope ("class", "module") that may still
        remove what the test left, or None: then it is judged now, and what is
        confirmed is in self.confirmed. Asked only if the test left anything.
        """
        if self.finished:
            return self.record
        self.finished = True
        if self in self.session._guards:
            self.session._guards.remove(self)
        record = self.record
        try:
            candidates = self._observation.appeared(record.id, record, self._tracked(),
                                                    self._owners)
            if self.child_scope is not None:
                candidates += self.session.end_child_scope(self.child_scope, record,
                                                           self._observation)
            if not self.nested:
                self.session.forget_origins()
            if keep_policy == "all" or (keep_policy == "failed" and failed):
                try:
                    with _held.own_umask():
                        self._keep(candidates)
                except OSError as error:
                    record.notes.append("its files could not be kept: %s" % error)
            if self._context is not None:
                record.add_cleanup(self._context.stats, self._context.close())
            if candidates:
                # Just seen: only tempguard ran since, which removed none of them.
                self.left = candidates
                self.confirmed = self.session.judge(self.left, "test",
                                                    later_owner() if self.left else None)
        finally:
            # Listed whatever happened: a second Ctrl-C may cut judging short, and what
            # it judged so far is removed at the end of the run, so it must be reported.
            if not self.nested:
                self.session.records.append(record)
            self.session.redirect.put_back(self._saved_tempdir)
            if not self.nested:
                self.session.tempdir_state = self._saved_tempdir
            if not self.session.owns_run:
                self.session.redirect.restore()
                set_fallback(self._saved_fallback)
        return record

    def _keep(self, candidates):
        """Copy what the test left, and move its tracked files, into a kept directory.

        Copied, not moved: code that still owns a leftover keeps using it; the
        kept directory shows it as it was when the test ended. A leftover that
        cannot be copied (a full disk, an unreadable directory) is moved there
        instead when it is confirmed (see Session.keep_when_confirmed); what is
        not kept is said, never claimed.
        """
        tracked = sorted(self._tracked())
        left = [candidate for candidate in candidates if candidate.where == "sandbox"]
        if not tracked and not left:
            return
        kept = self.session.root.keep_dir(self.record.id)
        if kept is None:
            return
        not_kept, moves = [], False
        st = os.lstat(kept)
        kept_identity = _cleanup.inode_key(st)
        for path in tracked:
            target = os.path.join(kept, os.path.basename(path))
            try:
                os.rename(path, target)
            except FileNotFoundError:
                continue
            except OSError:
                # Another filesystem: copied; the context's cleanup removes the original.
                not_kept += _copy_entry(path, target)
        if not self.session.root.sandbox.is_replaced():
            for candidate in left:
                target = os.path.join(kept, candidate.name)
                failed = _copy_entry(_ownership.candidate_path(candidate), target)
                if failed and not failed[0].is_special:
                    _cleanup.remove_paths([target])  # a part-copy shows nothing true
                    self.session.keep_when_confirmed(candidate, (kept, kept_identity))
                    moves = True
                else:
                    not_kept += failed
        self.record.not_kept.extend(str(item) for item in not_kept)
        self._note_not_kept(kept, not_kept)
        if os.listdir(kept) or moves:
            self.record.kept = kept
        else:
            os.rmdir(kept)  # nothing could be kept: no empty directory claims otherwise

    @staticmethod
    def _note_not_kept(kept, not_kept):
        """List what was not copied in the kept directory itself, beside the copies."""
        if not not_kept:
            return
        fd = os.open(os.path.join(kept, NOT_KEPT_NOTE),
                     os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with open(fd, "w") as handle:
            handle.write("".join("%s\n" % _output.display(str(item)) for item in not_kept))


class _NotCopied(collections.namedtuple("_NotCopied", "path reason is_special")):
    """An entry left out of a kept copy: a special file (never opened), or a failure."""

    __slots__ = ()

    def __str__(self):
        return "%s: %s" % (self.path, self.reason)


def _copy_entry(source, target):
    """Copy a file or tree as it is now, links as links; returns what was not copied.

    Only regular files are opened: a device node such as /dev/zero would fill
    the disk and /dev/kmsg block for ever; FIFOs and sockets are left out too.
    A failure to copy comes first in the list.
    """
    special = []

    def copy_file(src, dst):
        mode = os.lstat(src).st_mode
        if stat.S_ISREG(mode) or stat.S_ISLNK(mode):
            shutil.copy2(src, dst, follow_symlinks=False)
        else:
            special.append(_NotCopied(src, "%s; never opened, not copied" % _special(mode),
                                      True))

    failed = []
    try:
        if stat.S_ISDIR(os.lstat(source).st_mode):
            shutil.copytree(source, target, symlinks=True, copy_function=copy_file)
        else:
            copy_file(source, target)
    except shutil.Error as errors:
        failed = [_NotCopied(src, "not copied: %s" % why, False)
                  for src, _dst, why in errors.args[0]]
    except OSError as error:
        failed = [_NotCopied(source, "not copied: %s" % (error.strerror or error), False)]
    return failed + special


def _special(mode):
    for test, kind in ((stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return kind
    return "not a regular file"


class _Scope(object):
    """A class or module fixture scope: what its setUp made, judged when it ends."""

    def __init__(self, scope_id):
        self.record = TestRecord(scope_id, is_listed=False)
        self.contexts = []
        self.pending = []


class Session(object):
    """One guarded run: a run root with its sandbox, watched directories and records.

    With *owns_run* (the runner), tempfile points into the sandbox for the
    whole run; otherwise (the mixin under a foreign runner) only during tests.
    With *root*, the session joins a run root its supervisor made, and hands
    what must be judged after exit to it over *channel* (see handoff)
    instead of judging it itself. With
    *inside*, the held run root of a parallel run's parent, the session is one
    worker's: its run root is made in the parent's (see RunRoot.create).
    """

    def __init__(self, settings, owns_run=True, root=None, inside=None, channel=None):
        self.settings = settings
        self.owns_run = owns_run
        self.records = []
        self.fixture_records = []
        self.root = root
        self.supervised = root is not None
        self._channel = channel
        self._inside = inside
        self._report_part = None
        self._counts = None
        self.redirect = None
        self.sandbox_watch = None
        self.watches = []
        self.all_watches = []
        self.system_tempdir = None
        self.ledger = _ownership.Ledger()
        self._pid = os.getpid()
        self._scopes = collections.OrderedDict()
        self._phase = None
        self._phase_context = None
        self._saved_fallback = None
        self._guards = []
        self._unremoved = []
        # Judged sandbox leaks, removed at the end of the run: a later test that reads
        # what an earlier one left sees it, as under unittest; no later stretch (an
        # outer test, the next test) is blamed for them (see is_judged).
        self._judged = []
        self._judged_keys = set()
        self._moves = {}  # (id(place), name): (kept dir, its identity), see keep_when_confirmed
        self._handed_off = False
        self._hand_off_problem = None
        self._phase_children = None
        self._lingering = []  # child scopes whose processes outlived their starter
        self._started = {}  # id(record) -> pids of the children it started
        self.children_running = []  # (scope, pid) still writing when the run had to end
        self.origins = None
        self.children = None
        self.ignored_prefixes = ()  # names in watched dirs that belong to the harness
        self.tempdir_state = None
        self.started = self.stopped = False

    def start(self):
        saved = tempfile.tempdir
        given = tempfile.gettempdir()
        tempfile.tempdir = saved
        # A supervisor made the root in the temp dir it saw, a worker's parent its own;
        # a temp dir that is a link (or under one) is resolved once, and held.
        self.system_tempdir = (os.path.dirname(self.root.path) if self.supervised
                               else os.path.dirname(self._inside.path) if self._inside
                               else os.path.realpath(given))
        if self.root is None:
            self.root = _sandbox.RunRoot.create(self.system_tempdir, _invocation.current_id(),
                                                inside=self._inside)
        self._report_part = _invocation.part_id()
        self.redirect = _sandbox.TempdirRedirect(self.root.tmp)
        self.sandbox_watch = _watch.DirectoryWatch(self.root.sandbox, "sandbox")
        self.watches = [_watch.DirectoryWatch(_held.HeldDirectory(path), "outside",
                                       self.ignored_prefixes)
                        for path in _unique([self.system_tempdir] + self.settings.watch)]
        self._ignore_report()
        self.all_watches = [self.sandbox_watch] + self.watches
        linked = list(self.settings.linked)
        if not self._inside and os.path.realpath(given) != given:
            linked.insert(0, (given, self.system_tempdir))
        for path, real in _unique(linked):
            self.note("%s: a link to %s; the directory it leads to was watched" % (path, real))
        if self.owns_run:
            self.redirect.apply()
            self._saved_fallback = set_fallback(self.context_for_now)
        if self.settings.origins == "on" and _origins.AVAILABLE:
            self.origins = _origins.Recorder(watch.path for watch in self.all_watches)
            self.origins.start()
        self.children = _children.ChildDirs(self.root, self._child_scope_for_now)
        self.children.install()
        _ownership.atexit_log.start()
        _active.append(self)
        _started.append(self)
        self.started = True
        return self

    def stop(self):
        """End the run: close fixture scopes, restore tempfile; judge what no owner waits for.

        Returns [(record, leaks)] confirmed now, after the tests' lines. What
        waits for exit is judged by _at_exit, or, in a supervised run, handed
        to the supervisor by hand_off().
        """
        if self.stopped or not self.started or os.getpid() != self._pid:
            return []
        self.stopped = True
        confirmed = []
        try:
            if self._phase is not None:
                self.end_phase(None, None)
            confirmed = self.close_scopes(sorted(self._scopes, key=_scope_rank))
            for level in ("class", "module"):
                confirmed += self.judge(self.settle(self.ledger.take(level)), level, None)
            confirmed += self._judge_lingering()
            self._remove_judged()
        finally:
            self.children.uninstall()
            if self.origins is not None:
                self.origins.stop()
            if self.owns_run:
                self.redirect.restore()
                set_fallback(self._saved_fallback)
            if self in _active:
                _active.remove(self)
            if not _active:
                _ownership.atexit_log.stop()
            for notice in self.root.replaced() + [
                    "%s: the watched directory was replaced; the one first opened was watched"
                    % watch.path for watch in self.watches if watch.held.is_replaced()]:
                self.note(notice)
            if not self.supervised and not self.waits_for_exit():
                self._finish_root()
        return confirmed

    def _ignore_report(self):
        """The report is no leak where it is written: the other processes of a parallel
        run write it (and its partial files) while this one watches its directory."""
        if self.settings.report:
            for watch in self._watches_of(os.path.dirname(self.settings.report)):
                watch.ignored += (os.path.basename(self.settings.report),)

    def ignore_entry(self, path):
        """*path*, an entry of a watched directory that the harness owns (pytest's
        --basetemp), is never a candidate."""
        for watch in self._watches_of(os.path.dirname(path)):
            watch.ignored_names.add(os.path.basename(path))

    def _watches_of(self, directory):
        """The watches of *directory*, matched by identity, not by spelling."""
        try:
            st = os.stat(directory)
        except OSError:
            return []
        return [watch for watch in self.watches
                if watch.held.identity == _cleanup.inode_key(st)]

    def waits_for_exit(self):
        """True if some entry can be judged (or removed) only after interpreter exit."""
        return bool(self.ledger.waiting("exit") or self._unremoved)

    # -- origins and children --------------------------------------------------

    def origin_of(self, path):
        return self.origins.origin_of(path) if self.origins is not None else None

    def forget_origins(self):
        if self.origins is not None:
            self.origins.forget()

    def _child_scope_for_now(self):
        """The scope dir for a process started now: the running test's, or the running
        fixtures'; None outside both (the child then writes in the sandbox)."""
        if self._guards:
            guard = self._guards[-1]
            if guard.child_scope is None:
                guard.child_scope = self._new_child_scope(guard.record)
            return guard.child_scope
        if self._phase is not None:
            if self._phase_children is None:
                self._phase_children = self._new_child_scope(None)
            return self._phase_children
        return None

    def _new_child_scope(self, record):
        scope = self.children.new_scope()
        if scope is not None and record is not None:
            scope.owner, scope.record = record.id, record
        return scope

    def end_child_scope(self, scope, record, observation):
        """The starter *record* ended: candidates for what its children left, or none
        yet if one of them (or their children) still runs; that is judged later."""
        scope.owner, scope.record = record.id, record
        self._started[id(record)] = [pid for _argv, pid in scope.processes]
        try:
            if scope.user() is not None:
                scope.names_at_end = frozenset(scope.held.names())
                self._lingering.append((scope, observation))
                return []
            candidates = observation.children_of(scope)
        except OSError as error:
            record.notes.append("%s: could not be listed (%s); left alone" % (scope.path, error))
            return []
        if not candidates:
            self.children.release(scope)
        return candidates

    def _judge_lingering(self):
        """Judge the dirs of children that outlived their starter, once they have exited;
        wait CHILD_GRACE_SECONDS for them. A dir still in use is removed later by a
        reaper (see _finish_root)."""
        confirmed = []
        running = _children.wait_until_free([scope for scope, _ in self._lingering],
                                            CHILD_GRACE_SECONDS)
        for scope, observation in self._lingering:
            if scope not in running:
                confirmed += self.judge(self.settle(observation.children_of(scope)),
                                        "child", None)
        for scope in running:
            pid = scope.user()
            if not self.supervised:  # else the supervisor waits for it again, and says
                scope.record.notes.append(scope.still_used(pid))
            self._list_fixture(scope.record)
            self.children_running.append((scope, pid))
        self._lingering = []
        return confirmed

    def hand_off(self, tail=None, counts=None):
        """Give the supervisor what it must judge after exit, unittest's *counts*, and
        the deferred *tail* (unittest's closing lines) if any. False if the
        channel was lost (the test process then says so at exit).

        Done only once it is done: cut short (a second Ctrl-C), it is made again
        at exit, since what was judged is removed and must be reported.
        """
        if not self.supervised or self._handed_off:
            return False
        try:
            self._channel.send(self._handoff(tail, counts))
        except OSError as error:
            self._handed_off = True
            self._hand_off_problem = error
            return False
        self._handed_off = True
        return True

    def refuse(self, error):
        """No test runs: a usage error (*error*, its text) was found before the first. A
        supervisor is told, and reports nothing."""
        self._handed_off = True
        if self.supervised:
            self._channel.send({"usage_error": error})

    def note(self, text):
        """Add a note to the run's own record."""
        self._run_record().notes.append(text)

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
            if self._hand_off_problem is not None:
                sys.stderr.write("\ntempguard: could not hand this run over to its "
                                 "supervisor: %s; what its tests left in the sandbox is "
                                 "judged as the run's\n" % self._hand_off_problem)
            return
        if self.root.held.fd is None:
            return
        late, still_owned = self.judge_exit()
        if late:
            _output.write_late_section(sys.stderr, late, self.settings)
            self.write_report(self._counts)
        if still_owned:
            self.root.leave()
        else:
            self._finish_root()

    def give_up(self, error):
        """At exit, after *error*: say so, and leave the run root for a later run to prune."""
        sys.stderr.write("\ntempguard: could not finish the run at exit (%s); its run root %s "
                         "is left for a later run to prune\n" % (error, self.root.path))
        try:
            self.root.leave()
        except OSError:
            pass  # unmarked, it is pruned as a dead run's all the same

    def _finish_root(self):
        """Remove the run root, or hand it to a reaper while children of the run still
        use their dirs."""
        for watch in self.all_watches:
            if watch is not self.sandbox_watch:
                watch.close()
        if self.children_running:
            problem = _reaper.remove_when_free(
                self.root, [scope for scope, _ in self.children_running], self.settings.keep_runs)
            if problem:
                self.note(problem)
        else:
            finish = self.root.close(self.settings.keep_runs)
            if not finish.ok:
                self._run_record().add_removal(finish)
        if not self.owns_run:
            self.write_report()

    def report(self, counts=None):
        """The JSON-ready report of the run so far."""
        return _report.run_report(self.records, self.fixture_records, counts,
                                  self.settings.origins_mode)

    def write_report(self, counts=None):
        """Write the JSON report if one was asked for: in a parallel run, this session's
        part of its invocation's. Returns what was written, or None."""
        if not self.settings.report:
            return None
        self._counts = counts
        return _report.write_json(self.settings.report, self.report(counts),
                                  self.root.invocation, self._report_part)

    def begin_test(self, test_id, continuing=False, observation=None):
        """A guard for one test; *continuing* when it starts right where a phase ended,
        or going on with *observation*, a phase's, when no fixture ran in between."""
        return TestGuard(self, test_id, continuing, observation)

    def current_guard(self):
        """The guard of the innermost running test, or None."""
        return self._guards[-1] if self._guards else None

    # -- judgement ---------------------------------------------------------------

    def settle(self, candidates):
        """The candidates that still exist.

        No garbage collection is forced: finalizers would run at tempguard's
        moment, not the program's, and what they print (ResourceWarnings) would
        move to another test's line. An object that will remove an entry when
        collected is found alive instead, reachable or not (see exit_owned).
        """
        return self._existing(candidates) if candidates else []

    @staticmethod
    def _existing(candidates):
        return [candidate for candidate in candidates if still_there(candidate)]

    def judge(self, candidates, scope, later_owner):
        """File existing candidates under *later_owner*, or under exit if something will
        remove them then; confirm the rest as leaks judged at *scope*.

        Returns [(record, leaks)] confirmed, grouped by record.
        """
        if not candidates:
            return []
        if later_owner is not None:
            self.ledger.hold(later_owner, candidates)
            return []
        owned = _ownership.exit_owned(candidates)
        if owned:
            self.ledger.hold("exit", [c for c in candidates
                                      if _ownership.candidate_path(c) in owned])
            candidates = [c for c in candidates if _ownership.candidate_path(c) not in owned]
        return self._confirm(candidates, scope)

    def judge_exit(self):
        """Judge what waited for exit, from an atexit handler: [(record, leaks)].

        Finalizers that have not run yet (they registered before us, so run
        after us) still own what they name: that is left in place, and True
        is returned with the leaks, so that the run root is left to be pruned.
        """
        waiting = self.ledger.take("exit")
        if waiting:
            gc.collect()  # the tests' output is done: no program's event moves any more
        waiting = self._existing(waiting)
        owned = _ownership.exit_owned(waiting, handlers=False)
        late = self._confirm([c for c in waiting
                              if _ownership.candidate_path(c) not in owned], "exit")
        self._remove_judged()
        self._remove(self._unremoved, allow_cwd=True)
        self._unremoved = []
        # Judged sandbox leaks, removed at the end of the run: a later test that reads
        # what an earlier one left sees it, as under unittest; no later stretch (an
        # outer test, the next test) is blamed for them (see is_judged).
        self._judged = []
        self._judged_keys = set()
        return late, bool(owned)

    def _confirm(self, candidates, scope):
        by_record = collections.OrderedDict()
        for candidate in candidates:
            if is_unattributed(candidate, self.settings):
                candidate.record.unattributed.append(self._as_unattributed(candidate, scope))
                self._list_fixture(candidate.record)
                continue
            leak = self.as_leak(candidate, scope)
            candidate.record.leaks.append(leak)
            by_record.setdefault(id(candidate.record), (candidate.record, []))[1].append(leak)
            self._list_fixture(candidate.record)
        for candidate in candidates:
            if candidate.where == "sandbox":
                self._judged.append(candidate)
                self._judged_keys.add((id(candidate.place), candidate.name, candidate.identity))
        return list(by_record.values())

    def is_judged(self, place, name, identity):
        """True for a sandbox entry already judged a leak, waiting to be removed."""
        return (id(place), name, identity) in self._judged_keys

    def _remove_judged(self):
        judged, self._judged = self._judged, []
        self._judged_keys = set()
        self._remove(judged)

    @staticmethod
    def as_leak(candidate, scope):
        return Leak(_ownership.candidate_path(candidate), candidate.kind, candidate.where,
                    scope, candidate.owner, candidate.origin)

    def _as_unattributed(self, candidate, scope):
        """*candidate* as an unattributed entry. If children of the run were running
        meanwhile (its stretch's own, or earlier ones still alive), their pids are a
        hint in its origin, not evidence: a child's files are attributed only in the
        temp dir it was given."""
        pids = set(self._started.get(id(candidate.record), ()))
        pids.update(pid for scope_, _observation in self._lingering
                    for _argv, pid in scope_.processes)
        entry = self.as_leak(candidate, scope)
        return entry._replace(origin={"children_alive": sorted(pids)}) if pids else entry

    def keep_when_confirmed(self, candidate, kept):
        """Move *candidate* into the kept directory *kept* (path, (st_dev, st_ino)) once it
        is confirmed as a leak, instead of removing it: it could not be copied there."""
        self._moves[(id(candidate.place), candidate.name)] = kept

    def _move_to_kept(self, candidate):
        """Move a confirmed leftover into its kept directory if it waits for that (see
        keep_when_confirmed); True if nothing is left to remove."""
        move = self._moves.pop((id(candidate.place), candidate.name), None)
        return move is not None and move_into_kept(candidate, move)

    def pending_move(self, candidate):
        """The kept directory (path, identity) that *candidate* waits to be moved into,
        or None (see keep_when_confirmed)."""
        return self._moves.get((id(candidate.place), candidate.name))

    def _remove(self, candidates, allow_cwd=False):
        """Remove confirmed leaks through their directory's descriptor; never the cwd."""
        by_record = collections.OrderedDict()
        for candidate in candidates:
            if (not allow_cwd and candidate.kind == "dir"
                    and _holds_cwd(_ownership.candidate_path(candidate))):
                self._unremoved.append(candidate)  # removed once the process has left it
                continue
            if self._moves and self._move_to_kept(candidate):
                continue
            key = (id(candidate.record), id(candidate.place))
            by_record.setdefault(key, (candidate.record, []))[1].append(candidate)
        for record, group in by_record.values():
            place = group[0].place
            record.add_removal(place.remove([(c.name, c.identity) for c in group]))

    def _list_fixture(self, record):
        """Put a fixture's record in the report once it has something to say."""
        if not record.is_listed:
            record.is_listed = True
            self.fixture_records.append(record)

    def _run_record(self):
        for record in self.fixture_records:
            if record.id == "run":
                return record
        record = TestRecord("run")
        self.fixture_records.append(record)
        return record

    def _handoff(self, tail, counts):
        """What the supervisor needs to judge after exit, as JSON.

        Without a JSON report to write, only the records with something to
        say travel; the rest are summed into one, which keeps the totals.
        """
        waiting = self.ledger.take("exit") + self._unremoved
        for candidate in waiting:
            self._list_fixture(candidate.record)
        counts = dict(counts or {}, passed=sum(1 for r in self.records if r.outcome == "passed"))
        records, fixture_records = self.records, self.fixture_records
        if not self.settings.report:
            waited = set(id(candidate.record) for candidate in waiting).union(
                id(scope.record) for scope, _pid in self.children_running)
            records = [r for r in records if id(r) in waited or _has_news(r)]
            rest = [r for r in self.records + self.fixture_records if not _has_news(r)
                    and id(r) not in waited]
            fixture_records = [r for r in fixture_records if id(r) in waited or _has_news(r)]
            fixture_records.append(_summed(rest))
        index = {id(record): number for number, record in enumerate(records + fixture_records)}
        return dict(_wire.dump(records, fixture_records), **{
                "waiting": [{"where": c.where, "dir": c.place.path, "name": c.name,
                             "identity": list(c.identity), "kind": c.kind, "owner": c.owner,
                             "record": index[id(c.record)], "confirmed": c in self._unremoved,
                             "origin": c.origin, "kept": self.pending_move(c)}
                            for c in waiting],
                "counts": counts, "tail": tail,
                "reported": sorted(set(os.path.basename(leak.path)
                                       for record in self.records + self.fixture_records
                                       for leak in record.leaks if leak.where == "sandbox")),
                "children_running": [
                    {"path": scope.path, "owner": scope.owner, "record": index[id(scope.record)],
                     "processes": [list(process) for process in scope.processes],
                     "names_at_end": sorted(scope.names_at_end or ())}
                    for scope, _pid in self.children_running]})

    # -- fixture phases (what happens between tests) --------------------------

    def begin_phase(self, continuing=False):
        """Start watching a stretch between tests: class and module fixtures run there."""
        if not self.owns_run:
            self.redirect.apply()
            self._saved_fallback = set_fallback(self.context_for_now)
        self._phase = _watch.Observation(self, continuing)

    def begin_loading(self):
        """Watch the import of the test modules, before the first test: what it leaves is
        judged at the end of the run, as the importing module's (see end_loading)."""
        self.begin_phase()

    def end_loading(self):
        """End the watch begun by begin_loading. Each entry that appeared is blamed on
        the import of the module whose top level made it, "import (pkg.mod)", or,
        where that cannot be told, "import (the tests)"; judged at the end of the run,
        since tests may use what their modules made."""
        observation, context = self._take_phase()
        run = self._scope(("run",), "run").record
        appeared = observation.appeared(run.id, run)
        appeared += self._take_phase_children(("run",), "run", observation)
        self.forget_origins()
        modules = {module.__file__: name for name, module in list(sys.modules.items())
                   if isinstance(getattr(module, "__file__", None), str)} if appeared else {}
        records = {}
        blamed = []
        for candidate in appeared:
            name = modules.get(_importing_file(candidate.origin), "the tests")
            record = records.get(name)
            if record is None:
                record = records[name] = TestRecord("import (%s)" % name, is_listed=False)
            blamed.append(candidate._replace(owner=record.id, record=record))
        if context is not None or blamed:
            self._attach(("run",), "run", context, blamed)

    @property
    def between_tests(self):
        """True while a stretch between tests is watched (see begin_phase)."""
        return self._phase is not None

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
        children = self._take_phase_children(self._innermost_scope(), "run", observation)
        if context is not None or children:
            self._attach(self._innermost_scope(), "run", context, children)
        return observation

    def end_phase(self, scope_key, scope_id):
        """Stop watching and hand what appeared to the scope *scope_key* (made if new)."""
        observation, context = self._take_phase()
        if scope_key is None:
            scope_key, scope_id = self._innermost_scope(), "run"
        scope = self._scope(scope_key, scope_id)
        appeared = observation.appeared(scope.record.id, scope.record)
        appeared += self._take_phase_children(scope_key, scope_id, observation)
        self.forget_origins()
        if context is not None or appeared:
            self._attach(scope_key, scope_id, context, appeared)

    def _take_phase_children(self, scope_key, scope_id, observation):
        children, self._phase_children = self._phase_children, None
        if children is None:
            return []
        return self.end_child_scope(children, self._scope(scope_key, scope_id).record,
                                    observation)

    def _innermost_scope(self):
        return next(reversed(self._scopes), ("run",))

    def _scope(self, scope_key, scope_id):
        scope = self._scopes.get(scope_key)
        if scope is None:
            scope = self._scopes[scope_key] = _Scope(scope_id)
        return scope

    def _attach(self, scope_key, scope_id, context, appeared):
        scope = self._scope(scope_key, scope_id)
        if context is not None:
            scope.contexts.append(context)
        scope.pending.extend(appeared or ())

    def close_scopes(self, keys):
        """End these scopes: clean their contexts, and judge what they and their tests left.

        A class's leftovers wait for its module's teardown if the module has
        one. Returns [(record, leaks)] confirmed now.
        """
        confirmed = []
        for key in keys:
            scope = self._scopes.pop(key, None)
            level = key[0]
            module = key[1] if len(key) > 1 else None
            if scope is not None:
                record = scope.record
                for context in scope.contexts:
                    record.add_cleanup(context.stats, context.close())
                if record.created or record.cleanup_errors:
                    self._list_fixture(record)
                pending = scope.pending
            else:
                pending = []
            if level in ("class", "module"):
                pending = pending + self.ledger.take(level)
            later = "module" if (level == "class" and module is not None
                                 and _ownership.module_may_own(module)) else None
            confirmed += self.judge(self.settle(pending), level, later)
        return confirmed


def is_unattributed(candidate, settings):
    """True for an entry outside the sandbox that nothing shows this run made: the
    audit hook saw no process of the run make it. Never a leak, unless *settings*
    say the temp dir is private (outside = strict)."""
    return (candidate.where == "outside" and candidate.origin is None
            and settings.outside != "strict")


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
            return False  # gone or replaced: the removal says which
        os.rename(candidate.name, candidate.name, src_dir_fd=candidate.place.fd,
                  dst_dir_fd=held.fd)
        return True
    except OSError as error:
        return _not_moved(candidate, error.strerror or str(error))
    finally:
        held.close()


def still_there(candidate):
    """True if the candidate is still the entry that was seen; a replacement is noted on
    its record, and left alone."""
    state = _ownership.state_of(candidate)
    if state == "replaced":
        candidate.record.notes.append(
            "%s: replaced by another entry since it was seen; left alone"
            % _ownership.candidate_path(candidate))
    return state == "same"





def _has_news(record):
    return bool(record.leaks or record.unattributed or record.kept or record.not_kept
                or record.cleanup_errors or record.notes)


def _summed(records):
    """One record holding what *records* made and cleaned: they count, nothing else to say."""
    total = TestRecord("(the other tests)")
    for record in records:
        total.created += record.created
        total.cleaned += record.cleaned
        total.bytes += record.bytes
        total.cleanup_seconds += record.cleanup_seconds
    return total


def _importing_file(origin):
    """The file of the outermost module top level among an entry's frames, or None."""
    if not origin or "file" not in origin:
        return None
    frames = [origin] + list(origin.get("stack", ()))
    return next((frame["file"] for frame in reversed(frames)
                 if frame["function"] == "<module>"), None)


def _scope_rank(key):
    """Inner scopes close first: classes, then modules, then the run."""
    return ("class", "module", "run").index(key[0])


def _not_moved(candidate, reason):
    candidate.record.not_kept.append("%s: not kept: could not be copied, nor moved (%s)"
                                     % (_ownership.candidate_path(candidate), reason))
    return False


def _unique(paths):
    return list(collections.OrderedDict.fromkeys(paths))


def _holds_cwd(path):
    try:
        cwd = os.getcwd()
    except OSError:
        return False
    real = os.path.realpath(path)
    return cwd == real or cwd.startswith(real.rstrip(os.sep) + os.sep)


_active = []
_started = []


def _at_exit():
    """Each session's last word. Registered when tempguard is imported, so that it runs
    after the exit handlers of what is imported later (atexit runs the last first)."""
    with _held.fd_headroom():
        for session in reversed(_started):
            try:
                session._at_exit()
            except OSError as error:
                session.give_up(error)


atexit.register(_at_exit)


def active_session():
    """The innermost session running in this process, or None."""
    return _active[-1] if _active else None
