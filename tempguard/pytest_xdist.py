"""tempguard under pytest-xdist: the controller merges what its workers report into one
section and one file, and hands what a worker judges at its exit (after it sent the
rest) through a file in a run root of the controller's own."""

import json
import tempfile
import time

import pytest

from . import invocation as _invocation
from . import jsonreport as _jsonreport
from . import output as _output
from . import wire as _wire
from .held import HeldDirectory
from .inuse import InUse
from .keep import KeepDir
from .pytest_report import Closing, Counts
from .real import mkstemp, os
from . import capabilities as _capabilities
from .records import TestRecord, run_record
from .sandbox import SANDBOX_NAME, RunRoot, dead_parts
from .supervisor import list_unjudged

__all__ = ["Controller", "LATE_DIR", "WORKER_OUTPUT", "hand_late"]

WORKER_OUTPUT = "tempguard"  # workeroutput: a worker's records, as the wire writes them
LATE_DIR = "tempguard_late_dir"  # workerinput: where a worker hands what it judges at exit
_DEAD_WORKER_WAIT = 2.0  # seconds a crashed worker may take to exit
_DEAD_WORKER_ORIGIN = {"found": "found in the sandbox of an xdist worker that died"}


def hand_late(late_dir, session, late):
    """In an xdist worker, at exit: hand the leaks judged then to the controller, as a
    file in *late_dir* that it reads once the workers have exited (see Controller)."""
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


class Controller(object):
    """The xdist controller: merges what its workers report into one section and one file.

    What a worker judges at its exit (after pytest_sessionfinish, where it sent
    the rest) reaches the controller as a file in a run root of the
    controller's own, read once xdist has shut the workers down.
    """

    def __init__(self, config, settings):
        self.settings = settings
        self.counts = Counts(config)
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
        node.workerinput[LATE_DIR] = self._late_root.tmp
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
        data = getattr(node, "workeroutput", {}).get(WORKER_OUTPUT)
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
                # The dead worker's children may live on in their dirs: never removed
                # from under them.
                used = InUse().reasons_below(sandbox.path)
                run.add_removal(sandbox.remove([(name, None) for name in sandbox.names()
                                                if name not in used]))
                run.notes.extend("%s: left: in use (%s)" % (
                    _output.display(os.path.join(sandbox.path, name)), "; ".join(sorted(why)))
                    for name, why in sorted(used.items()))
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
        self.closing = Closing(session, self.records, self.fixture_records, self.settings,
                                self._write_report)

    def _write_report(self, baseline):
        return _jsonreport.write_run_report(self.records, self.fixture_records, self.settings,
                                            self.counts.totals, baseline,
                                            _invocation.current_id(), _invocation.part_id())

    def _take_late(self):
        by_id = {record.id: record for record in self.records + self.fixture_records}
        for name in sorted(self._late_root.sandbox.names()):
            if not name.endswith(".json") or name.startswith("."):
                continue
            try:  # read through the held dir, never a link: a test may have planted one
                target, at = self._late_root.sandbox.place(name)
                fd = os.open(target, os.O_RDONLY | _capabilities.O_NOFOLLOW
                             | _capabilities.O_CLOEXEC, **at)
                with open(fd) as handle:
                    records, fixture_records = _wire.load(json.load(handle))
            except (OSError, ValueError) as error:
                run_record(self.fixture_records).notes.append(
                    "%s: a worker's exit judgement could not be read (%s)" % (name, error))
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
