"""Django's test runner with tempguard, serial or with ``--parallel``.

Set ``TEST_RUNNER = "tempguard.django.TempGuardDiscoverRunner"``. Only Django
imports this module; the rest of tempguard never imports Django.

With ``--parallel``, Django's workers run the tests and the parent replays
their results. Each worker guards its tests in a session of its own, whose
run root lies in the parent's (files kept for failed tests go to the
parent's ``kept/``), and sends each test's record back through Django's
event stream; the parent merges them into one section and one report, and
never scans or cleans a worker's sandbox.
"""

import functools
import io
import unittest

from django.test.runner import DiscoverRunner, ParallelTestSuite, RemoteTestResult

from . import wire as _wire
from .guard import guarding_session
from .held import HeldDirectory
from .program import TempGuardRunner
from .output import Described
from .result import TempGuardResult
from .sandbox import check_private_dir
from .session import Session

__all__ = ["TempGuardDiscoverRunner", "TempGuardParallelTestSuite"]

_RECORDS_EVENT = "tempguard_worker_records"


class _Forwarding(unittest.TextTestResult):
    """Passes each outcome that reaches unittest's result on to Django's RemoteTestResult,
    which records it as an event for the parent (Django 3.2's is no TestResult)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.remote = RemoteTestResult()

    @property
    def events(self):
        return self.remote.events

    def _exc_info_to_string(self, err, test):
        # unittest's formatting trims the traceback in place: the parent formats it, whole.
        return ""


def _forwarded(name):
    def method(self, *args):
        getattr(super(_Forwarding, self), name)(*args)
        getattr(self.remote, name)(*args)
    method.__name__ = name
    return method


for _name in ("startTest", "stopTest", "addSuccess", "addFailure", "addError", "addSkip",
              "addExpectedFailure", "addUnexpectedSuccess", "addSubTest", "addDuration"):
    if hasattr(RemoteTestResult, _name) and hasattr(unittest.TextTestResult, _name):
        setattr(_Forwarding, _name, _forwarded(_name))


class _WorkerResult(TempGuardResult, _Forwarding):
    """A worker's result: each test guarded, its outcomes forwarded to Django's events,
    and the records sent as events of their own once the subsuite is done."""

    def __init__(self, settings, parent_root):
        super().__init__(io.StringIO(), False, 0)
        self.tempguard_settings = settings
        self._parent_root = parent_root
        self._indexes = {}
        self._late_failures = []

    def _new_session(self):
        return Session(self.tempguard_settings, inside=self._parent_root)

    def startTest(self, test):
        super().startTest(test)
        if self._guard is not None:
            self._indexes[id(self._guard.record)] = self.remote.test_index

    def addFailure(self, test, err):
        if isinstance(test, Described):
            # A leak confirmed after its test's line: the parent adds it under its owner.
            self._late_failures.append((test.id(), str(err[1])))
            return
        super().addFailure(test, err)

    def stopTestRun(self):
        super().stopTestRun()
        unstarted = []
        for record in self.session.records:
            index = self._indexes.get(id(record))
            if index is None:
                unstarted.append(record)
            else:
                self.events.append((_RECORDS_EVENT, index, _wire.dump([record])))
        self.events.append((_RECORDS_EVENT, 0, _wire.dump(
            unstarted, self.session.fixture_records, self._late_failures)))


class _WorkerRunner(object):
    """Runs one subsuite in a Django worker, as Django's RemoteTestRunner does."""

    def __init__(self, settings, parent_root, failfast=False, buffer=False):
        self.settings = settings
        self.parent_root = parent_root
        self.failfast = failfast
        self.buffer = buffer

    def run(self, test):
        parent = HeldDirectory(self.parent_root)
        try:
            check_private_dir(self.parent_root, parent)
            result = _WorkerResult(self.settings, parent)
            unittest.registerResult(result)
            result.failfast = self.failfast
            result.buffer = self.buffer
            result.startTestRun()
            try:
                test(result)
            finally:
                result.stopTestRun()
        finally:
            parent.close()
        return result


class TempGuardParallelTestSuite(ParallelTestSuite):
    """Django's parallel suite, with tempguard guarding the tests in every worker."""

    def run(self, result):
        session = guarding_session(result)
        if session is None:
            return super().run(result)
        self.runner_class = functools.partial(_WorkerRunner, session.settings,
                                              session.root.path)
        with result.workers_running():
            return super().run(result)


class TempGuardDiscoverRunner(DiscoverRunner):
    """DiscoverRunner with tempguard around every test, in one process or in workers."""

    test_runner = TempGuardRunner
    parallel_test_suite = TempGuardParallelTestSuite

    def run_suite(self, suite, **kwargs):
        self._tempguard_result = super().run_suite(suite, **kwargs)
        return self._tempguard_result

    def run_tests(self, *args, **kwargs):
        """As Django's, but where every test passed and new leaks were confirmed, exits
        with --leaks-exit-code (TEMPGUARD_LEAKS_EXIT_CODE), if one is set."""
        failures = super().run_tests(*args, **kwargs)
        leaked = getattr(getattr(self, "_tempguard_result", None), "tempguard_status", 0)
        if not failures and leaked:
            raise SystemExit(leaked)
        return failures
