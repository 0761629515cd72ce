"""The per-test guard: one test's tracking context and leak watch, from start to finish.

A guard knows its test by id only; the runner's result, the mixin and the
pytest plugin each make one per test through Session.begin_test, and end it
with finish(), which cleans (or keeps) the test's files and has the run's
judge rule on what else it left.
"""


from .real import os
from . import cleanup as _cleanup
from . import held as _held
from . import keepdir as _keepdir
from . import kept as _kept
from . import ownership as _ownership
from . import watch as _watch
from .judge import is_unattributed, leak_of
from .records import TestRecord
from .tracking import TrackingContext

__all__ = ["TestGuard", "guarding_session"]

_NOTHING = frozenset()


def guarding_session(result):
    """The session that guards the tests reporting to *result* (the runner's result, a
    pytest item), or None: a TempGuardMixin test then leaves its guard to it."""
    return getattr(result, "tempguard_guarding", None)


class TestGuard(object):
    """One test's tracking context and leak watch, from its start to its finish."""

    __test__ = False  # a Test*-named class that pytest must not collect
    __slots__ = ("session", "record", "finished", "left", "confirmed", "child_dir", "nested",
                 "_context", "_taken", "_parts", "_owners", "_saved_tempdir", "_observation")

    def __init__(self, session, test_id, continuing=False, observation=None):
        self.session = session
        self.record = TestRecord(test_id)
        self.finished = False
        self.left = self.confirmed = ()  # what it left, what of that was confirmed now
        self._context = None
        self.child_dir = None  # made when the test first starts a process
        self._taken = _NOTHING  # paths of what the test's fixtures made (see take_part)
        self._parts = self._owners = None  # made by the first subTest
        if not session.owns_run:
            session.redirect.apply()
        # Between two tests of a class only unittest runs: the last test's state holds.
        self._saved_tempdir = session.redirect.test_began(observation is not None)
        self._observation = observation or _watch.Observation(session, continuing)
        # A test run inside another guarded test is that test's business, not the run's.
        self.nested = session.push_guard(self)

    @property
    def context(self):
        """The test's TrackingContext, made when first asked for: most tests never ask."""
        if self._context is None:
            self._context = TrackingContext(self.record.id)
        return self._context

    def _tracked(self):
        if self._context is None:
            return self._taken
        return set(str(path) for path in self._context.tracked_paths()) | self._taken

    def begin_part(self, owner, record=None, continuing=False):
        """Entries that appear from now until end_part() belong to *owner* (a subTest);
        with *record*, a fixture's, until take_part(): so do the processes it starts.
        *continuing* when only the harness ran since the last check (see Observation)."""
        if self._parts is None:
            self._parts, self._owners = [], {}
        self._parts.append([owner, _watch.Observation(self.session, continuing), record, None])

    def end_part(self):
        owner, observation, _record, _child_dir = self._parts.pop()
        for candidate in observation.appeared(owner, self.record, self._tracked()):
            self._owners.setdefault(_ownership.candidate_path(candidate), owner)

    def take_part(self, record):
        """End a part begun for a fixture: what appeared in it, and what the processes it
        started left, is *record*'s, not the test's; returns those candidates, for
        whoever judges the fixture's end."""
        _owner, observation, _record, child_dir = self._parts.pop()
        taken = observation.appeared(record.id, record, self._tracked())
        self._taken = self._taken.union(_ownership.candidate_path(candidate)
                                        for candidate in taken)
        if child_dir is not None:
            taken += self.session.children.end_dir(child_dir, record, observation)
        return taken

    def child_dir_for_now(self, children):
        """The child dir of a process started now: the running fixture's, else the
        test's; made when first asked for."""
        part = self._parts[-1] if self._parts else None
        if part is not None and part[2] is not None:
            if part[3] is None:
                part[3] = children.dir_for(part[2])
            return part[3]
        if self.child_dir is None:
            self.child_dir = children.dir_for(self.record)
        return self.child_dir

    def find_leaks(self):
        """Untracked entries that appeared since the test started, exist now and that
        nothing alive will remove: in the sandbox, or outside it with evidence that
        this run made them (see is_unattributed)."""
        judge = self.session.judge
        candidates = judge.settle(self._observation.appeared(
            self.record.id, self.record, self._tracked(), self._owners))
        owned = _ownership.exit_owned(candidates)
        return [leak_of(candidate, "test", judge.settings.baseline) for candidate in candidates
                if not is_unattributed(candidate, judge.settings)
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
        session = self.session
        session.pop_guard(self)
        record = self.record
        try:
            candidates = self._observation.appeared(record.id, record, self._tracked(),
                                                    self._owners)
            if self.child_dir is not None:
                candidates += session.children.end_dir(self.child_dir, record,
                                                         self._observation)
            if not self.nested:
                session.forget_origins()
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
                self.confirmed = session.judge.judge(candidates, "test", later_owner())
        finally:
            # Listed whatever happened: a second Ctrl-C may cut judging short, and what
            # it judged so far is removed at the end of the run, so it must be reported.
            if not self.nested:
                session.records.append(record)
            session.redirect.test_ended(self._saved_tempdir, self.nested)
            if not session.owns_run:
                session.redirect.restore()
        return record

    def _keep(self, candidates):
        """Copy what the test left, and move its tracked files, into a kept directory.

        A leftover that cannot be copied is moved there instead once it is
        confirmed (see Judge.keep_when_confirmed); what is not kept is said,
        never claimed (see kept).
        """
        tracked = sorted(self._tracked())
        left = [candidate for candidate in candidates if candidate.where == "sandbox"]
        if not tracked and not left:
            return
        root = self.session.root
        home = self.session.keep_home or root
        over = self._over_budget(home, tracked + [_ownership.candidate_path(c) for c in left])
        if over is not None:
            self.record.not_kept.append(over)
            return
        kept = home.keep_dir(self.record.id)
        if kept is None:
            self.record.not_kept.append("not kept: %s, where they are kept, was replaced"
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
                not_kept += _kept.copy_entry(path, target)
        if not root.sandbox.is_replaced():
            for candidate in left:
                target = os.path.join(kept, candidate.name)
                failed = _kept.copy_entry(_ownership.candidate_path(candidate), target)
                if failed and not failed[0].is_special:
                    _cleanup.remove_paths([target])  # a part-copy shows nothing true
                    self.session.judge.keep_when_confirmed(candidate, (kept, kept_identity))
                    moves = True
                else:
                    not_kept += failed
        self.record.not_kept.extend(str(item) for item in not_kept)
        _kept.note_not_kept(kept, not_kept)
        if os.listdir(kept) or moves:
            self.record.kept = kept
        else:
            os.rmdir(kept)  # nothing could be kept: no empty directory claims otherwise

    def _over_budget(self, home, paths):
        """Why *paths* are not kept, if keeping them would pass --keep-max-bytes (what is
        kept so far in *home*, a KeepDir or the run root, counts); else None."""
        budget = self.session.settings.keep_max_bytes
        if budget is None:
            return None
        if home is self.session.keep_home:
            target, at = home.held.place(".")
            kept = _keepdir.tree_bytes(target, **at)
        else:
            kept = _keepdir.tree_bytes(home.kept)
        needed = sum(_keepdir.tree_bytes(path) for path in paths)
        if kept + needed <= budget:
            return None
        return ("%d entries (%d bytes) not kept: past --keep-max-bytes %d (%d bytes kept "
                "already)" % (len(paths), needed, budget, kept))
