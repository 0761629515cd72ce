"""TempGuardResult: unittest's text result, with every test in its own tracking context."""

import contextlib
import io
import sys
import time
import traceback
import unittest
from types import TracebackType
from typing import Any, Dict, Iterator, Optional, TextIO, Tuple, Type

from . import output as _output
from . import ownership as _ownership
from . import wire as _wire
from .mixin import TempGuardMixin
from .records import TestRecord, by_owner, failing, worse_outcome
from .scopes import class_scope, module_scope
from .session import Session
from .settings import Settings, class_policy

__all__ = ["TempGuardResult"]

__unittest = True

_ExcInfo = Tuple[Type[BaseException], BaseException, Optional[TracebackType]]


class TempGuardResult(unittest.TextTestResult):
    """Records outcomes as unittest does, and gives each test a guard.

    Leaks are attributed to the test (or subTest) during which they appeared,
    and judged once no owner that could still remove them is left (see
    ownership). What class and module fixtures leave is reported under
    ``setUpClass (mod.Class)`` or ``setUpModule (mod)``.
    """

    def __init__(self, stream: TextIO, descriptions: bool, verbosity: int,
                 **kwargs: Any) -> None:
        super().__init__(stream, descriptions, verbosity, **kwargs)
        self.tempguard_settings = None
        self.tempguard_session = None  # one started already (see TempGuardRunner)
        self.tempguard_followed = None
        self.session = None
        self._guard = None
        self._test = None
        self._outcome_name = None
        self._previous_scope = (None, None)
        self._class_policies = {}  # class: its (keep, leaks) policies, checked once
        self._leak_policy_of_record = {}  # id(record): the leaks policy of its test
        self._keep_policy_of_record = {}  # id(record): the keep policy of its test
        self._kept_late = set()  # id(record) of those kept once their leaks failed them
        self._started_at = None
        self._replaying = False

    # -- the run ---------------------------------------------------------------

    def startTestRun(self) -> None:
        super().startTestRun()
        self._started_at = time.perf_counter()
        self.session = self.tempguard_session or self._new_session().start()
        self.session.scopes.begin_phase()
        _guarded_subtests.append(self.session)
        unittest.TestCase.subTest = _guarded_subtest

    def stopTestRun(self) -> None:
        """End the session; never raises, whatever a test did to the process:
        unittest's closing lines must follow."""
        try:
            if self.session is not None:
                _guarded_subtests.remove(self.session)
                if not _guarded_subtests:
                    unittest.TestCase.subTest = _ORIGINAL_SUBTEST
                try:
                    self._report_late(self.session.stop(before_removal=self._keep_late))
                except OSError as error:
                    self.session.note("tempguard could not judge the end of the run: %s"
                                      % error)
                self._hand_off()
        finally:
            super().stopTestRun()

    def _new_session(self):
        return Session(self.tempguard_settings or Settings())

    @contextlib.contextmanager
    def workers_running(self) -> Iterator[None]:
        """While worker processes run the tests, each guarding them in a session of its
        own (a parallel suite): this result only replays their outcomes and records
        (see tempguard_worker_records), and its session judges nothing the workers did."""
        session = self.session
        session.scopes.end_phase(None, None)
        session.children.uninstall()
        self._replaying = True
        try:
            yield
        finally:
            self._replaying = False
            session.children.install()
            session.scopes.begin_phase()

    def tempguard_worker_records(self, test: unittest.TestCase, payload: Dict[str, Any]
                                 ) -> None:
        """Replays what a worker's session recorded, as a parallel suite's event: the
        *payload* (see wire) holds the records of *test* or of tests that never started,
        fixture records, and late failures (see wire.late_failures)."""
        records, fixture_records = _wire.load(payload)
        self.session.records.extend(records)
        self.session.fixture_records.extend(fixture_records)
        for record in records:
            if record.kept:
                _output.note_kept(self, test, record.kept)
        for owner, message in _wire.late_failures(payload):
            self.addFailure(_output.Described(owner), (AssertionError, AssertionError(message),
                                                       None))

    def _hand_off(self):
        """In a supervised run, pass on what waits for exit; in fail mode with anything
        waiting, unittest's closing lines too, for the supervisor to print once it
        has judged (they may gain failures). If the hand-off fails, they are
        printed here after all."""
        if not self.session.supervised:
            return
        deferred = self.session.settings.leaks == "fail" and self.session.judge.waits_for_exit()
        handed = self.session.hand_off(self._tail() if deferred else None,
                                       self.tempguard_counts())
        if handed and deferred:
            self.stream.stream = io.StringIO()  # unittest's closing lines: the supervisor's now

    def _tail(self):
        describe = self.getDescription
        return {"errors": [[describe(test), text] for test, text in self.errors],
                "failures": [[describe(test), text] for test, text in self.failures],
                "unexpected_successes": [describe(test) for test in self.unexpectedSuccesses],
                "skipped": len(self.skipped), "expected_failures": len(self.expectedFailures),
                "tests_run": self.testsRun,
                "durations": [[str(name), elapsed] for name, elapsed in
                              getattr(self, "collectedDurations", ())],
                "durations_option": getattr(self, "durations", None),
                "seconds": time.perf_counter() - self._started_at}

    @property
    def tempguard_guarding(self) -> Optional[Session]:
        """The session guarding the tests that report here (see guarding_session)."""
        return self.session

    def tempguard_counts(self) -> Dict[str, int]:
        """unittest's own outcome counts, for the report's totals."""
        return {"tests": self.testsRun, "failed": len(self.failures),
                "error": len(self.errors), "skipped": len(self.skipped),
                "expected_failure": len(self.expectedFailures),
                "unexpected_success": len(self.unexpectedSuccesses)}

    # -- each test -------------------------------------------------------------

    def startTest(self, test: unittest.TestCase) -> None:
        if self.session is not None and self._guard is None and not self._replaying:
            self._guard = self._enter_scope(test)
            self._test = test
            self._outcome_name = "passed"
        super().startTest(test)

    def stopTest(self, test: unittest.TestCase) -> None:
        try:
            if test is self._test:
                self._finish(test)
        finally:
            super().stopTest(test)
            if test is self._test:
                self._guard = self._test = None
                self.session.scopes.begin_phase(continuing=True)

    def addSuccess(self, test: unittest.TestCase) -> None:
        if test is self._test and self._policies(test)[1] == "fail":
            self._finish(test)
            if failing(self._guard.confirmed):
                self._fail_for_leaks(test, self._guard.confirmed, late=False)
                if self._guard.record.kept:  # kept as a failed test's (see guard.finish)
                    _output.note_kept(self, test, self._guard.record.kept)
                return
        super().addSuccess(test)

    def addFailure(self, test: unittest.TestCase, err: _ExcInfo) -> None:
        self._note(test, "failed", err)
        super().addFailure(test, err)

    def addError(self, test: unittest.TestCase, err: _ExcInfo) -> None:
        self._note(test, "error", err)
        super().addError(test, err)

    def addSubTest(self, test: unittest.TestCase, subtest: unittest.TestCase,
                   err: Optional[_ExcInfo]) -> None:
        if err is not None:
            self._note(test, "failed" if issubclass(err[0], test.failureException) else "error",
                       err)
        super().addSubTest(test, subtest, err)

    def addSkip(self, test: unittest.TestCase, reason: str) -> None:
        self._note(test, "skipped")
        if (self.session is not None and test is not self._test and not self._replaying
                and isinstance(test, unittest.TestCase)):
            # 3.12+ skips a decorated test or class without starting it.
            record = TestRecord(test.id())
            record.outcome = "skipped"
            self.session.records.append(record)
        super().addSkip(test, reason)

    def addExpectedFailure(self, test: unittest.TestCase, err: _ExcInfo) -> None:
        self._note(test, "expected_failure")
        super().addExpectedFailure(test, err)

    def addUnexpectedSuccess(self, test: unittest.TestCase) -> None:
        self._note(test, "unexpected_success")
        super().addUnexpectedSuccess(test)

    # -- helpers ---------------------------------------------------------------

    def _note(self, test, outcome, err=None):
        if test is not self._test:
            return
        self._outcome_name = worse_outcome(self._outcome_name, outcome)
        if err is not None and self._guard is not None:
            self._guard.record.note_failure("".join(traceback.format_exception_only(*err[:2])))

    def _policies(self, test):
        """(keep, leaks) of *test*: a class attribute (tempguard_keep, tempguard_leaks)
        wins over the run's setting."""
        policies = self._class_policies.get(type(test))
        if policies is None:
            settings = self.session.settings
            keep, leaks = (class_policy(type(test), name) for name in ("keep", "leaks"))
            policies = self._class_policies[type(test)] = (
                settings.keep if keep is None else keep, settings.leaks if leaks is None else leaks)
        return policies

    def _later_owner(self, test):
        """Who may still remove what *test* left: its class, its module, or nobody."""
        cls = type(test)
        followed = self.tempguard_followed() if self.tempguard_followed else None
        if (followed is None or id(test) in followed
                or _ownership.class_may_own(cls, _PLAIN_RUNS)):
            return "class"
        if _ownership.module_may_own(cls.__module__):
            return "module"
        return None

    def _finish(self, test):
        guard = self._guard
        if guard.finished:
            return guard.record
        failed = self._outcome_name in ("failed", "error")
        keep, leaks = self._policies(test)
        record = guard.finish(failed, keep, lambda: self._later_owner(test),
                              leaks_fail=leaks == "fail")
        record.outcome = self._outcome_name
        if guard.left:
            # What it left may be confirmed later, when only the record is at hand.
            self._leak_policy_of_record[id(record)] = leaks
            self._keep_policy_of_record[id(record)] = keep
        if record.kept:
            _output.note_kept(self, test, record.kept)
        if (leaks == "fail" and failing(guard.confirmed)
                and self._outcome_name in ("skipped", "expected_failure", "unexpected_success")):
            self._fail_for_leaks(test, guard.confirmed, late=False)
        return record

    def _fail_for_leaks(self, test, confirmed, late):
        """One failure per owner (test, subTest, fixture) whose leaks were confirmed; known
        leaks (see baseline) fail nothing."""
        for record, leaks in failing(confirmed):
            if record.outcome is not None:
                record.outcome = "failed"
            for owner, owned in by_owner((record, leak) for leak in leaks).items():
                target = _output.Described(owner) if late else test
                failure = getattr(target, "failureException", AssertionError)
                message = _output.leak_message(owner, owned, self.session.settings)
                self.addFailure(target, (failure, failure(message), None))
                if late and record.kept:
                    _output.note_kept(self, target, record.kept)

    def _report_late(self, confirmed):
        """Leaks confirmed after their test's line: FAIL entries, as for a tearDownClass."""
        in_fail_mode = self._failed_late(confirmed)
        if in_fail_mode:
            self._keep_late(confirmed)
            self._fail_for_leaks(None, in_fail_mode, late=True)

    def _failed_late(self, confirmed):
        return [(record, leaks) for record, leaks in confirmed
                if self._leak_policy_of_record.get(id(record), self.session.settings.leaks)
                == "fail"]

    def _keep_late(self, confirmed):
        """Keep what the tests that *confirmed* fails now left, as any failed test's, before
        it is removed (see TestGuard.finish)."""
        for record, _leaks in failing(self._failed_late(confirmed)):
            if id(record) not in self._kept_late and self._keep_policy_of_record.get(
                    id(record), self.session.settings.keep) == "failed":
                self._kept_late.add(id(record))  # once: at the run's end, before removal
                self.session.judge.keep_judged(record)

    def _enter_scope(self, test):
        """Hand what appeared between tests to a fixture scope, close scopes that
        ended, and return the test's guard."""
        cls = type(test)
        module = cls.__module__
        previous_module, previous_class = self._previous_scope
        module_changed = module != previous_module
        class_changed = module_changed or cls is not previous_class
        if not class_changed:
            return self.session.begin_test(test.id(),
                                           observation=self.session.scopes.merge_phase())
        if module_changed and (_has_module_fixture(module) or not _has_class_fixture(cls)):
            self.session.scopes.end_phase(*module_scope(module))
        else:
            self.session.scopes.end_phase(*class_scope(cls))
        ended = []
        if class_changed and previous_class is not None:
            ended.append(class_scope(previous_class)[0])
        if module_changed and previous_module is not None:
            ended.append(module_scope(previous_module)[0])
        self._report_late(self.session.scopes.close_scopes(ended))
        self._previous_scope = (module, cls)
        return self.session.begin_test(test.id(), continuing=True)


# run() methods that run no code of the user's after a test has ended.
_PLAIN_RUNS = (unittest.TestCase.run, TempGuardMixin.run)

# TestCase.subTest while a run is guarded: entries made inside a subTest are its own.
_ORIGINAL_SUBTEST = unittest.TestCase.subTest
_guarded_subtests = []


def _guarded_subtest(test, *args, **kwargs):
    return _SubTestScope(test, _ORIGINAL_SUBTEST(test, *args, **kwargs))


class _SubTestScope(object):
    """unittest's subTest context, telling the running test's guard where it starts and ends."""

    def __init__(self, test, inner):
        self._test = test
        self._inner = inner
        self._guard = None

    def __enter__(self):
        value = self._inner.__enter__()
        subtest = getattr(self._test, "_subtest", None)
        session = _guarded_subtests[-1] if _guarded_subtests else None
        guard = session.current_guard() if session is not None else None
        if subtest is not None and guard is not None:
            self._guard = guard
            guard.begin_part(subtest.id())
        return value

    def __exit__(self, *exc_info):
        if self._guard is not None:
            self._guard.end_part()
        return self._inner.__exit__(*exc_info)


def _has_module_fixture(module_name):
    module = sys.modules.get(module_name)
    return module is not None and (hasattr(module, "setUpModule")
                                   or hasattr(module, "tearDownModule"))


def _has_class_fixture(cls):
    return any(getattr(cls, name).__func__ is not getattr(unittest.TestCase, name).__func__
               for name in ("setUpClass", "tearDownClass"))
