"""tempguard for pytest: every test guarded as ``python -m tempguard.runner`` guards unittest's.

pytest loads this module (the ``pytest11`` entry point of an installed
tempguard, or ``-p tempguard.pytest_plugin``); nothing else imports it. It
stays inactive unless asked: ``pytest --tempguard``, or ``tempguard = true``
in the ini file. Then each pytest process (each xdist worker) runs one
session with its sandbox, every item is guarded from its setup to its
teardown, what a fixture makes is the fixture's and is judged when pytest
finalizes it, and xdist workers send their records to the controller, which
prints one section and writes one report.
"""

import copy
import functools
import inspect
import json
import tempfile
import time
import warnings

import pytest

from .real import mkstemp, os
from . import annotations as _annotations
from . import closing as _closing
from . import invocation as _invocation
from . import jsonreport as _report
from . import origins as _origins
from . import output as _output
from . import wire as _wire
from .errors import TempLeakWarning, leak_warnings_stay_warnings
from .held import HeldDirectory
from .keepdir import KeepDir
from .records import TestRecord, by_owner, failing, worse_outcome
from .sandbox import SANDBOX_NAME, RunRoot, dead_parts
from .session import Session
from .supervisor import list_unjudged, run_record
from .settings import OPTIONS, SETTING_NAMES, Settings, checked_policy, class_policy

# pytest's own temp dirs (tmp_path, tmpdir, --basetemp) live here, in the real temp dir.
_PYTEST_TEMPROOT = "PYTEST_DEBUG_TEMPROOT"
_PYTEST_DIR_PREFIX = "pytest-of-"
_PYTEST_TEMP_FIXTURES = ("tmp_path_factory", "tmpdir_factory")
_WORKER_OUTPUT = "tempguard"
_DEAD_WORKER_WAIT = 2.0  # seconds a crashed worker may take to exit
_DEAD_WORKER_ORIGIN = {"found": "found in the sandbox of an xdist worker that died"}
_LATE_DIR = "tempguard_late_dir"  # workerinput: where a worker hands what it judges at exit
# pluggy 1.1+ runs new-style hook wrappers for less than old-style ones: on a 20,000-
# test suite, per fixture and per test, that is most of the plugin's cost. Our
# wrappers work as either (they return what they are sent, or let it raise).
_WRAPPER = ({"wrapper": True} if "wrapper" in inspect.signature(pytest.hookimpl).parameters
            else {"hookwrapper": True})
# The judgement level (see ownership.LEVELS) at the end of each pytest fixture scope.
_LEVEL_OF_SCOPE = {"function": "test", "class": "class", "module": "module",
                   "package": "module", "session": "run"}


def pytest_addoption(parser):
    group = parser.getgroup("tempguard", "temporary files tests leave behind (tempguard)")
    group.addoption("--tempguard", action="store_true", default=None,
                    help="guard every test: sandbox tempfile, report and remove leaks")
    for name, keywords, help_text in OPTIONS:  # checked by Settings, as the ini keys
        group.addoption("--tempguard-" + name.replace("_", "-"), help=help_text, **keywords)
    parser.addini("tempguard", "guard every test (as --tempguard)", type="bool", default=False)
    for name in SETTING_NAMES:
        if name == "update_baseline":
            continue  # a step a person takes, never a project's standing setting
        parser.addini("tempguard_" + name, "tempguard's %s setting (as --tempguard-%s)"
                      % (name, name.replace("_", "-")),
                      type="args" if name == "watch" else None)


def pytest_configure(config):
    # Inactive, the plugin leaves no trace, its marker included: pytest behaves as
    # if tempguard were not installed.
    if not (config.getoption("tempguard") or config.getini("tempguard")):
        return
    config.addinivalue_line(
        "markers", "tempguard(leaks=None, keep=None): this test's leak and keep policies")
    try:
        _check_basetemp(config.getoption("basetemp", None))
        settings = _settings(config)
        plugin = (_Controller if _is_xdist_controller(config) else _Guard)(config, settings)
    except (ValueError, OSError) as error:
        raise pytest.UsageError("tempguard: %s" % error)
    config.pluginmanager.register(plugin, "tempguard-session")


def _check_basetemp(basetemp):
    """Refuse a --basetemp that is the temp dir or holds it: pytest empties its basetemp
    as it starts, and would take tempguard's run roots (this run's too) with it."""
    if not basetemp:
        return
    given = os.path.realpath(os.fspath(basetemp))
    temp_dir = os.path.realpath(tempfile.gettempdir())
    if temp_dir == given or temp_dir.startswith(given.rstrip(os.sep) + os.sep):
        raise ValueError("--basetemp %s holds the temp dir %s, where tempguard keeps its run; "
                         "pytest empties its basetemp as it starts: give a directory of its "
                         "own (or inside the temp dir)" % (basetemp, temp_dir))


def _settings(config):
    """Settings from the command line, then the ini file, then TEMPGUARD_* variables."""
    values = {}
    for name in SETTING_NAMES:
        value = config.getoption("tempguard_" + name)
        if value is None and name != "update_baseline":
            value = config.getini("tempguard_" + name) or None
        values[name] = value
    return Settings(**values)


def _is_xdist_controller(config):
    return (not hasattr(config, "workerinput")
            and config.getoption("dist", "no") != "no"
            and bool(config.getoption("numprocesses", None)))


class _Guard(object):
    """The guarded session of one pytest process (or one xdist worker)."""

    def __init__(self, config, settings):
        self.config = config
        self.settings = settings
        self.counts = _Counts(config)  # pytest's, for the report's totals
        self.session = None
        self.guard = None
        self.item = None
        self.outcome = None
        self.failed_reports = []
        self.calling = False  # the test's call phase runs (see pytest_fixture_setup)
        self.fixtures = {}  # id(fixturedef) -> [(record, level, candidates)]
        self.policies = {}  # item -> {"leaks": policy, "keep": policy}, checked at collection
        self.wide = {}  # id(fixturedef) -> fixturedef: set up, wider than a test, not finalized
        self.closing = None  # the run's end, once the session finished (see _Closing)
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
        late_dir = getattr(self.config, "workerinput", {}).get(_LATE_DIR)
        if late_dir:  # an xdist worker: what it judges at exit goes to the controller
            self.session.on_late = functools.partial(_hand_late, late_dir, self.session)
        self.session.scopes.begin_phase()

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session, exitstatus):
        self._apply(self.settings.leaks, self.session.stop(), late=True)
        if self._saved_temproot is None:
            os.environ.pop(_PYTEST_TEMPROOT, None)
        if hasattr(self.config, "workerinput"):
            self.config.workeroutput[_WORKER_OUTPUT] = json.dumps(
                _wire.dump(self.session.records, self.session.fixture_records))
        else:
            self.closing = _Closing(session, self.session.records, self.session.fixture_records,
                                    self.settings, lambda baseline: self.session.write_report(
                                        self.counts.totals, baseline))

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

    def pytest_runtest_logreport(self, report):
        """Each report as pytest logs it (a subTest's as a subtest report): the test's
        outcome, and the counts of pytest's summary."""
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
        self._apply(self._policy_of(item, "leaks"), confirmed)

    def _finish(self, item, failed):
        record = self.guard.finish(failed, self._policy_of(item, "keep"),
                                   lambda: self._later_owner(item))
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
        held = judge.ledger.take(("fixture", key))
        parts = self.fixtures.pop(key, ())
        if not held and not parts:
            return  # most fixtures, most of the time
        confirmed = judge.judge(judge.settle(held), _LEVEL_OF_SCOPE.get(fixturedef.scope,
                                                                        "test"), None)
        for record, level, candidates in parts:
            confirmed += judge.judge(judge.settle(candidates), level, None)
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

    def _apply(self, policy, confirmed, late=False):
        """Warn (pytest's warnings summary) or fail (an error where it was confirmed)."""
        confirmed = failing(confirmed)  # known leaks (see baseline) neither warn nor fail
        if policy == "ignore" or not confirmed:
            return
        messages = [_output.leak_message(owner, leaks, self.settings) for owner, leaks in
                    by_owner((record, leak) for record, leaks in confirmed
                             for leak in leaks).items()]
        if policy == "fail" and not late:
            pytest.fail("\n".join(messages), pytrace=False)
        for message in messages:
            _warn(message)


def _warn(message):
    """A TempLeakWarning for pytest's warnings summary, never an error a blanket filter
    made (see leak_warnings_stay_warnings): not a failed teardown, nor a crashed
    session end."""
    with leak_warnings_stay_warnings():
        warnings.warn(TempLeakWarning(message))


def _hand_late(late_dir, session, late):
    """In an xdist worker, at exit: hand the leaks judged then to the controller, as a
    file in *late_dir* that it reads once the workers have exited (see _Controller)."""
    fixtures = set(id(record) for record in session.fixture_records)
    records = {True: [], False: []}
    for record, leaks in late:
        only = TestRecord(record.id)  # the late leaks alone: the rest was handed over
        only.outcome, only.leaks = record.outcome, list(leaks)
        records[id(record) in fixtures].append(only)
    fd, partial = mkstemp(dir=late_dir, prefix=".partial-")
    with open(fd, "w") as handle:
        json.dump(_wire.dump(records[False], records[True]), handle)
    os.rename(partial, os.path.join(late_dir, "%d.json" % os.getpid()))


class _Controller(object):
    """The xdist controller: merges what its workers report into one section and one file.

    What a worker judges at its exit (after pytest_sessionfinish, where it sent
    the rest) reaches the controller as a file in a run root of the
    controller's own, read once xdist has shut the workers down.
    """

    def __init__(self, config, settings):
        self.settings = settings
        self.counts = _Counts(config)
        self.records = []
        self.fixture_records = []
        self.closing = None
        # Taken here, so that the workers (the controller's children) share it.
        self._keep_dir = settings.keep_dir and KeepDir.open(settings.keep_dir)
        self._temp_dir = os.path.realpath(tempfile.gettempdir())
        self._late_root = RunRoot.create(self._temp_dir, _invocation.current_id())
        self._started = time.time()
        self._workers_invocation = None
        self._judged_parts = set()

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node):
        node.workerinput[_LATE_DIR] = self._late_root.tmp
        # The id the workers will share (see invocation.current_id), for _judge_dead_workers.
        self._workers_invocation = _invocation.current_id(dict(
            os.environ, PYTEST_XDIST_WORKER=node.gateway.id,
            PYTEST_XDIST_TESTRUNUID=node.workerinput.get("testrunuid", "")))

    def pytest_runtest_logreport(self, report):
        self.counts.add(report)  # the workers' reports, as the controller's terminal counts them

    def pytest_collectreport(self, report):
        self.counts.add_collected(report)  # a worker's skip or error, once (xdist dedups)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node, error):
        data = getattr(node, "workeroutput", {}).get(_WORKER_OUTPUT)
        if data:
            data = json.loads(data)
            records, fixture_records = _wire.load(data)
            self.records += records
            self.fixture_records += fixture_records
        elif error is not None:  # before xdist starts a replacement, whose end prunes it
            self._judge_dead_workers(_DEAD_WORKER_WAIT)

    def _judge_dead_workers(self, wait=0.0):
        """What the sandbox of a worker killed before it judged (SIGKILL, the OOM killer)
        holds: listed as the run's leaks and removed, as the runner's supervisor does for
        a test process that dies. Waits up to *wait* seconds for one: xdist sees the
        worker's pipe close before the kernel has it exit."""
        deadline = time.monotonic() + wait
        while True:
            parts = [info for info in dead_parts(self._temp_dir, self._workers_invocation,
                                                 self._started)
                     if info.path not in self._judged_parts]
            if parts or time.monotonic() >= deadline:
                break
            time.sleep(0.02)
        for info in parts:
            self._judged_parts.add(info.path)
            try:
                sandbox = HeldDirectory(os.path.join(info.path, SANDBOX_NAME))
            except OSError:
                continue  # no sandbox yet: the worker died as it started
            try:
                run = run_record(self.fixture_records)
                found = list_unjudged(sandbox, run, (), self.settings, _DEAD_WORKER_ORIGIN)
                run.add_removal(sandbox.empty())
            finally:
                sandbox.close()
            if found:
                run.notes.append("%s left in the sandbox of an xdist worker (pid %s) that died "
                                 "before it judged them: listed as leaks of the run; %d removed"
                                 % (_output.plural(len(found), "entry", "entries"), info.pid,
                                    sum(1 for path in found if not os.path.lexists(path))))

    def pytest_terminal_summary(self, terminalreporter):
        if self.closing is not None:
            self.closing.write(terminalreporter)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session, exitstatus):
        """After xdist's own, which waits for the workers to exit: their exit judgement
        is in, and joins the rest before the section is printed and the report written."""
        self._judge_dead_workers()
        self._take_late()
        self.closing = _Closing(session, self.records, self.fixture_records, self.settings,
                                self._write_report)

    def _write_report(self, baseline):
        if not self.settings.report:
            return None
        return _report.write_json(self.settings.report, _report.run_report(
            self.records, self.fixture_records, self.settings, self.counts.totals, baseline),
            _invocation.current_id(), _invocation.part_id())

    def _take_late(self):
        by_id = {record.id: record for record in self.records + self.fixture_records}
        for name in sorted(self._late_root.sandbox.names()):
            if not name.endswith(".json") or name.startswith("."):
                continue
            try:  # read through the held dir, never a link: a test may have planted one
                fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC,
                             dir_fd=self._late_root.sandbox.fd)
                with open(fd) as handle:
                    records, fixture_records = _wire.load(json.load(handle))
            except (OSError, ValueError) as error:
                self.fixture_records.append(_noted_record(
                    "%s: a worker's exit judgement could not be read (%s)" % (name, error)))
                continue
            for late, into in ((records, self.records), (fixture_records, self.fixture_records)):
                for record in late:
                    if record.id in by_id:
                        by_id[record.id].leaks.extend(record.leaks)
                    else:
                        into.append(record)
        self.pytest_unconfigure()

    def pytest_unconfigure(self):
        """The late root goes, even after an internal error cut the session short."""
        if self._late_root is not None:
            self._late_root.close(self.settings.keep_runs)
            self._late_root = None
        if self._keep_dir:
            self._keep_dir.close()
            self._keep_dir = None


class _Closing(object):
    """The end of a pytest run (see closing): what CI reads is written at the session's
    finish, where the exit status is set; the section and its lines come in pytest's
    terminal summary, which follows."""

    def __init__(self, session, records, fixture_records, settings, write_report):
        self.records, self.fixture_records, self.settings = records, fixture_records, settings
        self.fixed = _closing.fixed_entries(records, fixture_records, settings)
        self.lines = _closing.conclude(records, fixture_records, settings, write_report,
                                       self.fixed)
        session.exitstatus = _closing.leaked_status(session.exitstatus, records,
                                                    fixture_records, settings)

    def write(self, terminalreporter):
        _write_summary(terminalreporter, self.records, self.fixture_records, self.settings,
                       self.fixed)
        for line in self.lines:
            terminalreporter.write_line(line)
        if self.settings.annotations == "github":
            for line in _annotations.github_commands(self.records, self.fixture_records,
                                                     self.settings):
                terminalreporter.write_line(line)


_SCOPE_ORDER = ("function", "class", "module", "package", "session")
# The function of the pseudo-fixture that gives a test its @parametrize value.
_PARAMETER_FIXTURE = "get_direct_param_fixture_func"
# pytest's summary categories, as the report's outcome names.
_OUTCOME_OF_CATEGORY = {"passed": "passed", "failed": "failed", "error": "error",
                        "skipped": "skipped", "xfailed": "expected_failure",
                        "xpassed": "unexpected_success"}


class _Counts(object):
    """The outcomes pytest's summary line counts, tallied as its terminal tallies them:
    each report in the category pytest_report_teststatus gives it (a failed subTest
    counts, a passed or quietly skipped one does not), and collection skips and errors."""

    def __init__(self, config):
        self._config = config
        self.totals = {outcome: 0 for outcome in _OUTCOME_OF_CATEGORY.values()}
        self.totals["tests"] = 0

    def add(self, report):
        if type(report) is pytest.TestReport and report.outcome in _PLAIN_OUTCOMES:
            category = _plain_category(report)  # pytest's own rules, without a hook call
        else:
            category = self._config.hook.pytest_report_teststatus(report=report,
                                                                  config=self._config)[0]
        self._count(_OUTCOME_OF_CATEGORY.get(category))

    def add_collected(self, report):
        self._count("error" if report.failed else "skipped" if report.skipped else None)

    def _count(self, outcome):
        if outcome is not None:
            self.totals[outcome] += 1
            self.totals["tests"] += 1


# A plain report with one of these outcomes gets its category by pytest's own rules
# (runner, skipping and terminal plugins); any other (a plugin's "rerun") is asked for.
_PLAIN_OUTCOMES = ("passed", "failed", "skipped")


def _plain_category(report):
    """The category pytest_report_teststatus gives a plain TestReport, by pytest's rules."""
    if hasattr(report, "wasxfail") and not report.failed:
        return "xfailed" if report.skipped else "xpassed"
    if report.when == "call":
        return report.outcome
    if report.failed:
        return "error"
    return "skipped" if report.skipped else ""


def _noted_record(note):
    record = TestRecord("run")
    record.notes.append(note)
    return record


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
        for leak in leaks:
            described = _origins.describe(leak.origin) if leak.origin is not None else None
            item.user_properties.append((
                "tempguard-known-leak" if leak.known else "tempguard-leak",
                "%s %s (%s)%s" % (leak.kind, leak.path, leak.owner or record.id,
                                  ": " + described if described else "")))


def _write_summary(terminalreporter, records, fixture_records, settings, fixed=()):
    """tempguard's section as pytest's own: under its rule, at its verbosity (-qq: the
    totals line alone; -vv: every leaked path)."""
    verbosity = terminalreporter.config.getoption("verbose")
    terminal = _Terminal(terminalreporter)
    if verbosity <= -2:
        _output.write_totals(terminal, records, fixture_records, None, prefix="tempguard: ")
        return
    if verbosity >= 2 and not settings.all_leaks:
        settings = copy.copy(settings)
        settings.all_leaks = True
    terminalreporter.write_sep("=", "tempguard")
    _output.write_section(terminal, records, fixture_records, None, settings,
                          heading=lambda title: terminalreporter.write_sep("-", title),
                          fixed=fixed)


class _Terminal(object):
    """pytest's terminal as a stream for tempguard's section."""

    def __init__(self, terminalreporter):
        self.write = terminalreporter.write

    def flush(self):
        pass  # pytest's terminal writer flushes as it needs
