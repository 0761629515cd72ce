"""TempGuardResult: unittest's text result, with every test in its own tracking context."""

import sys
import unittest

from . import report as _report
from .session import Session, Settings

__all__ = ["TempGuardResult"]

__unittest = True


class _FixtureHolder(object):
    """Stands for a class or module fixture in a failure report, as unittest's _ErrorHolder does."""

    failureException = AssertionError

    def __init__(self, description):
        self.description = description

    def id(self):
        return self.description

    def shortDescription(self):
        return None

    def __str__(self):
        return self.description


class TempGuardResult(unittest.TextTestResult):
    """Records outcomes as unittest does, and gives each test a guard.

    Leaks are attributed to the test during which they appeared; what class
    and module fixtures leave is reported under ``setUpClass (mod.Class)`` or
    ``setUpModule (mod)`` once that fixture's scope has ended.
    """

    tempguard_handles_tests = True

    def __init__(self, stream, descriptions, verbosity, **kwargs):
        super().__init__(stream, descriptions, verbosity, **kwargs)
        self.tempguard_settings = None
        self.session = None
        self._guard = None
        self._test = None
        self._outcome_name = None
        self._previous_scope = (None, None)
        self._policies = {}

    # -- the run ---------------------------------------------------------------

    def startTestRun(self):
        super().startTestRun()
        self.session = Session(self.tempguard_settings or Settings()).start()
        self.session.begin_phase()

    def stopTestRun(self):
        try:
            if self.session is not None:
                self._report_fixture_leaks(self.session.stop())
        finally:
            super().stopTestRun()

    def tempguard_report(self):
        """The run's JSON-ready report (see README: JSON report)."""
        return _report.run_report(self.session.records, self.session.fixture_records)

    # -- each test -------------------------------------------------------------

    def startTest(self, test):
        if self.session is not None and self._guard is None:
            self._guard = self._enter_scope(test)
            self._test = test
            self._outcome_name = "passed"
        super().startTest(test)

    def stopTest(self, test):
        try:
            if test is self._test:
                self._finish(test)
        finally:
            super().stopTest(test)
            if test is self._test:
                self._guard = self._test = None
                self.session.begin_phase(continuing=True)

    def addSuccess(self, test):
        if test is self._test and self._policy(test, "leaks") == "fail":
            record = self._finish(test)
            if record.leaks:
                self.addFailure(test, self._leak_exc_info(test, record))
                record.outcome = "failed"
                return
        super().addSuccess(test)

    def addFailure(self, test, err):
        self._note(test, "failed")
        super().addFailure(test, err)

    def addError(self, test, err):
        self._note(test, "error")
        super().addError(test, err)

    def addSubTest(self, test, subtest, err):
        if err is not None:
            self._note(test, "failed" if issubclass(err[0], test.failureException) else "error")
        super().addSubTest(test, subtest, err)

    def addSkip(self, test, reason):
        self._note(test, "skipped")
        super().addSkip(test, reason)

    def addExpectedFailure(self, test, err):
        self._note(test, "expected_failure")
        super().addExpectedFailure(test, err)

    def addUnexpectedSuccess(self, test):
        self._note(test, "unexpected_success")
        super().addUnexpectedSuccess(test)

    # -- helpers ---------------------------------------------------------------

    def _note(self, test, outcome):
        if test is not self._test:
            return
        rank = ("passed", "skipped", "expected_failure", "unexpected_success", "failed", "error")
        if rank.index(outcome) > rank.index(self._outcome_name):
            self._outcome_name = outcome

    def _policy(self, test, name):
        """A class attribute (tempguard_leaks, tempguard_keep) wins over the run's setting."""
        key = (type(test), name)
        policy = self._policies.get(key)
        if policy is None:
            value = getattr(test, "tempguard_" + name, None)
            policy = self._policies[key] = (
                value if value is not None else getattr(self.session.settings, name))
        return policy

    def _finish(self, test):
        guard = self._guard
        if guard.finished:
            return guard.record
        failed = self._outcome_name in ("failed", "error")
        record = guard.finish(failed, self._policy(test, "keep"))
        record.outcome = self._outcome_name
        if record.kept:
            _report.note_kept(self, test, record.kept)
        if (record.leaks and self._policy(test, "leaks") == "fail"
                and self._outcome_name in ("skipped", "expected_failure", "unexpected_success")):
            self.addFailure(test, self._leak_exc_info(test, record))
            record.outcome = "failed"
        return record

    def _leak_exc_info(self, test, record):
        failure = getattr(test, "failureException", AssertionError)
        return (failure, failure(_report.leak_message(record.id, record.leaks)), None)

    def _enter_scope(self, test):
        """Hand what appeared between tests to a fixture scope, close scopes that
        ended, and return the test's guard."""
        cls = type(test)
        module = cls.__module__
        previous_module, previous_class = self._previous_scope
        module_changed = module != previous_module
        class_changed = module_changed or cls is not previous_class
        if not class_changed:
            return self.session.begin_test(test.id(), observation=self.session.merge_phase())
        class_key = ("class", module, cls.__qualname__)
        if module_changed and (_has_module_fixture(module) or not _has_class_fixture(cls)):
            key, scope_id = ("module", module), "setUpModule (%s)" % module
        else:
            key, scope_id = class_key, "setUpClass (%s.%s)" % (module, cls.__qualname__)
        self.session.end_phase(key, scope_id)
        ended = []
        if class_changed and previous_class is not None:
            ended.append(("class", previous_module, previous_class.__qualname__))
        if module_changed and previous_module is not None:
            ended.append(("module", previous_module))
        self._report_fixture_leaks(self.session.close_scopes(ended))
        self._previous_scope = (module, cls)
        return self.session.begin_test(test.id(), continuing=True)

    def _report_fixture_leaks(self, records):
        if self.session.settings.leaks != "fail":
            return
        for record in records:
            holder = _FixtureHolder(record.id)
            self.addFailure(holder, self._leak_exc_info(holder, record))


def _has_module_fixture(module_name):
    module = sys.modules.get(module_name)
    return module is not None and (hasattr(module, "setUpModule")
                                   or hasattr(module, "tearDownModule"))


def _has_class_fixture(cls):
    return any(getattr(cls, name).__func__ is not getattr(unittest.TestCase, name).__func__
               for name in ("setUpClass", "tearDownClass"))
