"""tempguard for one pytest process (or one xdist worker): its session, every item
guarded from its setup to its teardown, and what a fixture makes judged as the
fixture's when pytest finalizes it."""

import functools
import inspect
import json
import warnings
from xml.etree import ElementTree

import pytest

from . import origins as _origins
from . import output as _output
from . import wire as _wire
from .errors import TempLeakWarning, leak_warnings_named, leak_warnings_stay_warnings
from .pytest_report import Closing, Counts
from .pytest_xdist import LATE_DIR, WORKER_OUTPUT, hand_late
from .real import os
from .records import TestRecord, by_owner, failing, worse_outcome
from .session import Session
from .settings import checked_policy, class_policy

__all__ = ["Guard"]

# pytest's own temp dirs (tmp_path, tmpdir, --basetemp) live here, in the real temp dir.
_PYTEST_TEMPROOT = "PYTEST_DEBUG_TEMPROOT"
_PYTEST_DIR_PREFIX = "pytest-of-"
_PYTEST_TEMP_FIXTURES = ("tmp_path_factory", "tmpdir_factory")
# pluggy 1.1+ runs new-style hook wrappers for less than old-style ones: on a 20,000-
# test suite, per fixture and per test, that is most of the plugin's cost. Our
# wrappers work as either (they return what they are sent, or let it raise).
_WRAPPER = ({"wrapper": True} if "wrapper" in inspect.signature(pytest.hookimpl).parameters
            else {"hookwrapper": True})
# The judgement level (see ownership.LEVELS) at the end of each pytest fixture scope.
_LEVEL_OF_SCOPE = {"function": "test", "class": "class", "module": "module",
                   "package": "module", "session": "run"}


class Guard(object):
    """The guarded session of one pytest process (or one xdist worker)."""

    def __init__(self, config, settings):
        self.config = config
        self.settings = settings
        self.counts = Counts(config)  # pytest's, for the report's totals
        self.session = None
        self.guard = None
        self.item = None
        self.outcome = None
        self.failed_reports = []
        self.calling = False  # the test's call phase runs (see pytest_fixture_setup)
        self.fixtures = {}  # id(fixturedef) -> [(record, level, candidates)]
        self.policies = {}  # item -> {"leaks": policy, "keep": policy}, checked at collection
        self.wide = {}  # id(fixturedef) -> fixturedef: set up, wider than a test, not finalized
        self.closing = None  # the run's end, once the session finished (see Closing)
        self.late_failures = []  # [(record, leaks)] of other tests, failed at the session's end
        self._junit = None  # pytest's LogXML, under --junitxml
        self._junit_cases = {}  # nodeid -> its finalized --junitxml case
        self._saved_temproot = None

    # -- the session -------------------------------------------------------------

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session):
        self._saved_temproot = os.environ.get(_PYTEST_TEMPROOT)
        self.session = Session(self.settings)
        self.session.ignored_prefixes += (_PYTEST_DIR_PREFIX,)
        self.session.start()
        basetemp = self.config.getoption("basetemp", None)
        if basetemp:  # pytest's, wherever it is: resolved as pytest resolves it
            self.session.ignore_entry(os.path.realpath(os.fspath(basetemp)))
        if self._saved_temproot is None:
            os.environ[_PYTEST_TEMPROOT] = self.session.system_tempdir
        late_dir = getattr(self.config, "workerinput", {}).get(LATE_DIR)
        if late_dir:  # an xdist worker: what it judges at exit goes to the controller
            self.session.on_late = functools.partial(hand_late, late_dir, self.session)
        self.session.scopes.begin_phase()
        self._junit = _junit_of(self.config)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session, exitstatus):
        self._apply(self.settings.leaks, self.session.stop(), late=True)
        if self._saved_temproot is None:
            os.environ.pop(_PYTEST_TEMPROOT, None)
        if hasattr(self.config, "workerinput"):
            self.config.workeroutput[WORKER_OUTPUT] = json.dumps(
                _wire.dump(self.session.records, self.session.fixture_records))
        else:
            self.closing = Closing(session, self.session.records, self.session.fixture_records,
                                    self.settings, lambda baseline: self.session.write_report(
                                        self.counts.totals, baseline), self.late_failures)

    def pytest_collectreport(self, report):
        self.counts.add_collected(report)

    def pytest_terminal_summary(self, terminalreporter):
        if self.closing is not None:
            self.closing.write(terminalreporter)

    # -- each test -----------------------------------------------------------------

    def pytest_collection_finish(self, session):
        """What collection made (a test module's import, a conftest) is the run's: judged
        at its end, never the first test's."""
        self.session.scopes.end_phase(None, None)
        self.session.scopes.begin_phase(continuing=True)

    def pytest_collection_modifyitems(self, session, config, items):
        """A bad policy (marker or class attribute) is a usage error before any test runs."""
        for item in items:
            self.policies[item] = self._policies(item)

    @pytest.hookimpl(**_WRAPPER)
    def pytest_runtest_protocol(self, item, nextitem):
        # Since the last test's teardown only pytest ran: this test goes on watching.
        self.guard = self.session.begin_test(item.nodeid,
                                             observation=self.session.scopes.merge_phase())
        self.item, self.outcome, self.failed_reports = item, "passed", []
        self.calling = False
        item.tempguard_guarding = self.session  # a TempGuardMixin test leaves its guard to us
        try:
            return (yield)
        finally:
            if not self.guard.finished:  # pytest's teardown raised before ours ran
                self._finish(item, failed=True)
            self.guard.record.outcome = self.outcome
            self.guard = self.item = None
            self.session.scopes.begin_phase(continuing=True)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report):
        """Each report as pytest logs it (a subTest's as a subtest report): the test's
        outcome, and the counts of pytest's summary. Before --junitxml's: the case it
        finalizes at a teardown is noted (see _add_late_properties)."""
        if report.when == "teardown" and self._junit is not None:
            # Keyed as LogXML keys it: pytest 9.2+ by the report's NodeId, before by nodeid.
            case = self._junit.node_reporters.get((getattr(report, "id", report.nodeid),
                                                   getattr(report, "node", None)))
            if case is not None:
                self._junit_cases[report.nodeid] = case
        if report.when == "setup":
            self.calling = True  # the setup is over: fixtures set up from here on start fresh
        if report.passed and report.when != "call" and type(report) is pytest.TestReport:
            return  # twice a test: a passed setup or teardown says nothing new
        self.counts.add(report)
        if self.item is None or report.nodeid != self.item.nodeid:
            return
        if _is_subtest(report) and not report.failed:
            return  # a skipped or passed subTest leaves its test's outcome as it is
        outcome = _outcome_of(report)
        if outcome is not None:
            self.outcome = worse_outcome(self.outcome, outcome)
        if report.failed:
            self.failed_reports.append(report)
            crash = getattr(report.longrepr, "reprcrash", None)
            self.guard.record.note_failure(getattr(crash, "message", None)
                                           or str(report.longrepr))

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_teardown(self, item, nextitem):
        """After pytest's own teardown (fixtures finalized): judge what the test left."""
        confirmed = self._finish(item, failed=bool(self.failed_reports))
        _add_properties(item, confirmed)
        self._apply(self._policy_of(item, "leaks"), confirmed, test=item.nodeid,
                    kept=None if self.failed_reports else self.guard.record.kept)

    def _finish(self, item, failed):
        record = self.guard.finish(failed, self._policy_of(item, "keep"),
                                   lambda: self._later_owner(item),
                                   leaks_fail=self._policy_of(item, "leaks") == "fail")
        if record.kept:
            for report in self.failed_reports:
                report.sections.append(("tempguard", "kept this test's temporary files in: %s"
                                        % _output.display(record.kept)))
        return self.guard.confirmed

    def _later_owner(self, item):
        """The narrowest wider fixture the test used that pytest has not finalized yet:
        its teardown may still remove what the test left. pytest's own temp fixtures
        remove nothing outside their basetemp, which is never judged: they own nothing."""
        used = [fixturedef for fixturedef in self.wide.values()
                if fixturedef.argname in getattr(item, "fixturenames", ())
                and fixturedef.argname not in _PYTEST_TEMP_FIXTURES]
        if not used:
            return None
        narrowest = min(used, key=lambda fixturedef: _SCOPE_ORDER.index(fixturedef.scope))
        return ("fixture", id(narrowest))

    # -- fixtures ------------------------------------------------------------------

    @pytest.hookimpl(**_WRAPPER)
    def pytest_fixture_setup(self, fixturedef, request):
        guard = self.session.current_guard() if self.session is not None else None
        if guard is None or getattr(fixturedef.func, "__name__", None) == _PARAMETER_FIXTURE:
            return (yield)  # outside a test, or a parameter's value: nothing of the user's runs
        if fixturedef.scope != "function":
            self.wide[id(fixturedef)] = fixturedef
        record = TestRecord(_fixture_id(fixturedef, request), is_listed=False)
        # In setup, only pytest ran since the last check: no fstat at the fixture's start.
        # In the call (request.getfixturevalue), the test's own files are the test's.
        guard.begin_part(record.id, record, continuing=not self.calling)
        try:
            return (yield)
        finally:
            taken = guard.take_part(record)
            if taken:
                self.fixtures.setdefault(id(fixturedef), []).append(
                    (record, _LEVEL_OF_SCOPE.get(fixturedef.scope, "test"), taken))

    def pytest_fixture_post_finalizer(self, fixturedef, request):
        """The fixture's teardown ran: judge what it made, and what waited for it."""
        key = id(fixturedef)
        self.wide.pop(key, None)
        judge = self.session.judge
        confirmed = judge.judge_held(("fixture", key), _LEVEL_OF_SCOPE.get(fixturedef.scope,
                                                                            "test"))
        parts = self.fixtures.pop(key, ())
        if not confirmed and not parts:
            return  # most fixtures, most of the time
        for record, level, candidates in parts:
            confirmed += judge.judge(judge.settle(candidates), level, None)
        if fixturedef.scope == "session" and self.item is not None:
            # Torn down in the last test's teardown: what it confirms of other tests is
            # theirs (their JUnit cases) and the run's (its exit status), not this test's.
            confirmed, elsewhere = _split_by_owner(confirmed, self.item.nodeid)
            _add_late_properties(self._junit_cases, elsewhere)
            self._apply(self.settings.leaks, elsewhere, late=True)
            if self.settings.leaks == "fail":
                self.late_failures += failing(elsewhere)
        if self.item is not None:
            _add_properties(self.item, confirmed)
        self._apply(self.settings.leaks, confirmed)

    # -- policies ----------------------------------------------------------------

    def _policy_of(self, item, name):
        """The item's policy, as checked at collection (see _policies)."""
        policies = self.policies.get(item)
        return (policies if policies is not None else self._policies(item))[name]

    def _policies(self, item):
        """{"leaks": ..., "keep": ...}: the item's marker wins over its class's attribute,
        which wins over the run."""
        marker = item.get_closest_marker("tempguard")
        given = marker.kwargs if marker is not None else {}
        policies = {}
        for name in ("leaks", "keep"):
            try:
                value = checked_policy(name, given.get(name),
                                       "%s: tempguard marker's %s" % (item.nodeid, name))
                if value is None and getattr(item, "cls", None) is not None:
                    value = class_policy(item.cls, name)
            except ValueError as error:
                raise pytest.UsageError(str(error))
            policies[name] = value if value is not None else getattr(self.settings, name)
        return policies

    def _apply(self, policy, confirmed, late=False, test=None, kept=None):
        """Fail (an error where it was confirmed), or in warn mode leave the leaks to
        tempguard's section: each is listed once, under its owner. pytest files a warning
        under the test running when it is issued, so one is issued only for that test's
        own leaks (*test*: its node id), and only where a filter names TempLeakWarning
        (``-W error::tempguard.TempLeakWarning``: the user's choice). *kept*: where a
        test its leaks fail had its files kept (see TestGuard.finish)."""
        confirmed = failing(confirmed)  # known leaks (see baseline) neither warn nor fail
        if policy == "ignore" or not confirmed:
            return
        owners = by_owner((record, leak) for record, leaks in confirmed for leak in leaks)
        if policy == "fail" and not late:
            pytest.fail("\n".join([_output.leak_message(owner, leaks, self.settings)
                                    for owner, leaks in owners.items()]
                                   + (["tempguard kept this test's temporary files in: %s"
                                       % _output.display(kept)] if kept else [])),
                        pytrace=False)
        if test is None or not leak_warnings_named():
            return
        for owner, leaks in owners.items():
            if owner == test or owner.startswith(test + " "):  # the test, or its subTest
                _warn(_output.leak_message(owner, leaks, self.settings))


def _warn(message):
    """A TempLeakWarning for pytest's warnings summary, never an error a blanket filter
    made (see leak_warnings_stay_warnings): not a failed teardown, nor a crashed
    session end."""
    with leak_warnings_stay_warnings():
        warnings.warn(TempLeakWarning(message))


_SCOPE_ORDER = ("function", "class", "module", "package", "session")
# The function of the pseudo-fixture that gives a test its @parametrize value.
_PARAMETER_FIXTURE = "get_direct_param_fixture_func"


def _is_subtest(report):
    """True for the report of one subTest (pytest 9's, or pytest-subtests')."""
    return type(report).__name__ in ("SubtestReport", "SubTestReport")


def _outcome_of(report):
    """unittest's outcome names for a pytest report of one phase, or None (nothing new)."""
    if hasattr(report, "wasxfail"):
        return "expected_failure" if report.skipped else "unexpected_success"
    if report.skipped:
        return "skipped"
    if report.failed:
        return "failed" if report.when == "call" else "error"
    return None


def _fixture_id(fixturedef, request):
    """``fixture NAME (where)``: the test for function scope, else the scope's node."""
    if fixturedef.scope == "session":
        where = "session"
    else:
        node = getattr(request, "node", None)
        where = getattr(node, "nodeid", None) or fixturedef.scope
    return "fixture %s (%s)" % (fixturedef.argname, where)


def _add_properties(item, confirmed):
    """Each confirmed leak as a property of the test case in pytest's --junitxml (the
    report of the phase being torn down carries the item's user_properties)."""
    for record, leaks in confirmed:
        item.user_properties.extend(_properties(record, leaks))


def _properties(record, leaks):
    for leak in leaks:
        described = _origins.describe(leak.origin) if leak.origin is not None else None
        yield ("tempguard-known-leak" if leak.known else "tempguard-leak",
               "%s %s (%s)%s" % (leak.kind, leak.path, leak.owner or record.id,
                                 ": " + described if described else ""))


def _split_by_owner(confirmed, nodeid):
    """(the leaks of *confirmed* that are the test *nodeid*'s or its subTests', the rest)."""
    here, elsewhere = [], []
    for record, leaks in confirmed:
        ours = record.id == nodeid or record.id.startswith(nodeid + " ")
        (here if ours else elsewhere).append((record, leaks))
    return here, elsewhere


def _junit_of(config):
    """pytest's LogXML under --junitxml, else None (no --junitxml, or an xdist worker's:
    the controller writes the file)."""
    try:
        from _pytest.junitxml import xml_key
    except ImportError:  # a pytest with no stash: late properties stay unsaid
        return None
    stash = getattr(config, "stash", None)
    return stash.get(xml_key, None) if stash is not None else None


def _add_late_properties(cases, confirmed):
    """Each leak of *confirmed* as a property of its own test's --junitxml case, though
    that case was finalized at its teardown: pytest writes the file at the session's
    end. *cases* maps nodeids to their cases; a fixture's leak has no case of its own."""
    for record, leaks in confirmed:
        case = cases.get(record.id)
        if case is not None:
            for name, value in _properties(record, leaks):
                _append_property(case.to_xml(), name, value)


def _append_property(testcase, name, value):
    properties = testcase.find("properties")
    if properties is None:
        properties = ElementTree.Element("properties")
        testcase.insert(0, properties)
    ElementTree.SubElement(properties, "property", name=name, value=value)
