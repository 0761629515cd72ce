"""The per-test guard: one test's tracking context and leak watch, from start to finish.

A guard knows its test by id only; the runner's result, the mixin and the
pytest plugin each make one per test through Session.begin_test, and end it
with finish(), which cleans (or keeps) the test's files and has the run's
judge rule on what else it left.
"""


from . import ownership as _ownership
from . import watch as _watch
from .records import TestRecord, failing
from .tracking import TrackingContext

__all__ = ["TestGuard", "guarding_session"]

_NOTHING = frozenset()


def guarding_session(result):
    """The session that guards the tests reporting to *result* (the runner's result, a
    pytest item), or None: a TempGuardMixin test then leaves its guard to it."""
    return getattr(result, "tempguard_guarding", None)


class _Part(object):
    """A stretch of a test that a subTest or a fixture owns (see TestGuard.begin_part)."""

    __slots__ = ("owner", "observation", "record", "child_dir")

    def __init__(self, owner, observation, record):
        self.owner, self.observation, self.record = owner, observation, record
        self.child_dir = None  # made when the part first starts a process


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
        self._parts.append(_Part(owner, _watch.Observation(self.session, continuing), record))

    def end_part(self):
        part = self._parts.pop()
        for candidate in part.observation.appeared(part.owner, self.record, self._tracked()):
            self._owners.setdefault(_ownership.candidate_path(candidate), part.owner)

    def take_part(self, record):
        """End a part begun for a fixture: what appeared in it, and what the processes it
        started left, is *record*'s, not the test's; returns those candidates, for
        whoever judges the fixture's end."""
        part = self._parts.pop()
        taken = part.observation.appeared(record.id, record, self._tracked())
        self._taken = self._taken.union(_ownership.candidate_path(candidate)
                                        for candidate in taken)
        if part.child_dir is not None:
            taken += self.session.children.end_dir(part.child_dir, record, part.observation)
        return taken

    def child_dir_for_now(self, children):
        """The child dir of a process started now: the running fixture's, else the
        test's; made when first asked for."""
        part = self._parts[-1] if self._parts else None
        if part is not None and part.record is not None:
            if part.child_dir is None:
                part.child_dir = children.dir_for(part.record)
            return part.child_dir
        if self.child_dir is None:
            self.child_dir = children.dir_for(self.record)
        return self.child_dir

    def find_leaks(self):
        """Untracked entries that appeared since the test started, exist now and that
        nothing alive will remove: in the sandbox, or outside it with evidence that
        this run made them (see judge.is_unattributed)."""
        judge = self.session.judge
        return judge.preview(judge.settle(self._observation.appeared(
            self.record.id, self.record, self._tracked(), self._owners)), "test")

    def finish(self, failed, keep_policy, later_owner=lambda: None, leaks_fail=False):
        """Clean (or keep) the test's tracked files, and file what else it left.

        *later_owner()* tells the scope ("class", "module") that may still
        remove what the test left, or None: then it is judged now, and what is
        confirmed is in self.confirmed. Asked only if the test left anything.
        With *leaks_fail* (--leaks fail), a test its leaks fail is a failed
        test: what it left is judged first, and kept under --keep failed.
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
            if not self.nested and session.origins is not None:
                session.origins.forget()
            judged = candidates and leaks_fail and keep_policy == "failed" and not failed
            if judged:
                self.left = candidates
                self.confirmed = session.judge.judge(candidates, "test", later_owner())
                failed = bool(failing(self.confirmed))
            if keep_policy == "all" or (keep_policy == "failed" and failed):
                self._keep(candidates)
            if self._context is not None:
                record.add_cleanup(self._context.stats, self._context.close())
            if candidates and not judged:
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
        """Keep what the test left, and its tracked files (see keep.Keeper)."""
        self.session.keeper.keep(self.record, sorted(self._tracked()),
                                 [candidate for candidate in candidates
                                  if candidate.where == "sandbox"])
