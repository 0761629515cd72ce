"""The runner's supervisor: the tests run in a child process, judged after it has exited.

Some owners of temp files run only at interpreter exit (atexit handlers,
finalizers, objects collected at shutdown, multiprocessing's own temp dir).
Only a process that outlives the tests can see what they leave, so
``python -m tempguard.runner`` makes the run root and forks: the child runs
the tests and exits as ``python -m unittest`` would; the parent waits, then
judges what was waiting for exit, prints tempguard's section, writes the
report and cleans up. It also cleans up after a child that crashed or was
killed. Forking, not starting a new interpreter, costs next to nothing.
"""

import json
import os
import signal
import sys
import unittest

from . import invocation as _invocation
from . import ownership as _ownership
from . import report as _report
from .cleanup import HeldDirectory
from .session import HANDOFF, Leak, Session, TestRecord, still_there

__all__ = ["fork", "supervise"]

__unittest = True


def fork():
    """Fork the test process: 0 in the child, the child's pid in the supervisor.

    The child dies with the supervisor (Linux), as a test process killed with
    it would.
    """
    for stream in (sys.stdout, sys.stderr):
        stream.flush()  # or both processes would write what is buffered
    parent = os.getpid()
    pid = os.fork()
    if pid == 0 and sys.platform.startswith("linux"):
        import ctypes  # only here: the child needs it once
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:
            os._exit(1)  # the supervisor died before the request took effect
    return pid


def supervise(pid, root, settings, verbosity):
    """Wait for the test process *pid*, then judge, report and clean up; its exit status.

    The status is as subprocess gives it: negative for a signal.
    """
    previous = {}
    # Ctrl-C at a terminal reaches the child too; otherwise pass SIGINT and SIGTERM on.
    for signum, already_delivered in ((signal.SIGINT, _from_terminal),
                                      (signal.SIGTERM, lambda: False)):
        if signal.getsignal(signum) != signal.SIG_IGN:
            previous[signum] = signal.signal(signum, _pass_on(pid, already_delivered))
    try:
        _, status = os.waitpid(pid, 0)
        status = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        return _judge_after_exit(root, settings, verbosity, status)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _pass_on(pid, already_delivered):
    """A signal handler that passes the signal on to the child, unless it got it too."""
    def handler(signum, frame):
        if not already_delivered():
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass
    return handler


def _from_terminal():
    """True when we run in the foreground of a terminal, whose Ctrl-C reaches the child too."""
    try:
        return os.tcgetpgrp(sys.stdin.fileno()) == os.getpgrp()
    except (OSError, AttributeError, ValueError):
        return False


def _judge_after_exit(root, settings, verbosity, status):
    text = root.read_file(HANDOFF)
    if text is not None:
        root.held.remove([(HANDOFF, None)])
    handoff = json.loads(text) if text else None
    records, fixture_records, late, counts = [], [], [], None
    if handoff is None:
        fixture_records.append(_crash_record(root, status))
    else:
        records = [TestRecord.from_json(data) for data in handoff["records"]]
        fixture_records = [TestRecord.from_json(data) for data in handoff["fixture_records"]]
        late = _judge_waiting(root, records + fixture_records, handoff["waiting"])
        counts = handoff["counts"]
        if handoff["tail"] is not None:
            status = _print_tail(handoff["tail"], late, settings, verbosity, counts)
    run = TestRecord("run")
    if handoff is None:
        run.notes.extend(root.replaced())  # else the test process noted them already
    if handoff is not None and handoff["children_running"]:
        root.leave()  # a child of a test still writes there: a later run prunes it
    else:
        run.add_removal(root.close(settings.keep_runs))
    if run.notes or run.cleanup_errors:
        fixture_records.append(run)
    _report.write_section(sys.stderr, records, fixture_records, counts, settings.origins_mode)
    if settings.report:
        written = _report.write_json(settings.report, _report.run_report(
            records, fixture_records, counts, settings.origins_mode), root.invocation,
            _invocation.part_id())
        _report.write_invocation_totals(sys.stderr, written)
    return status


def _judge_waiting(root, records, waiting):
    """Judge what the child left waiting for exit; remove the sandbox's leaks."""
    places = {}
    late = []
    for entry in waiting:
        record = records[entry["record"]]
        place = root.sandbox if entry["where"] == "sandbox" else places.get(entry["dir"])
        if place is None:
            try:
                place = places[entry["dir"]] = HeldDirectory(entry["dir"])
            except OSError:
                continue
        candidate = _ownership.Candidate(place, entry["name"], tuple(entry["identity"]),
                                         entry["kind"], entry["where"], entry["owner"],
                                         record, 0, entry["origin"])
        if not still_there(candidate):
            continue
        if not entry["confirmed"]:
            leak = Session.as_leak(candidate, "exit")
            record.leaks.append(leak)
            late.append((record, leak))
        if candidate.where == "sandbox":
            record.add_removal(place.remove([(candidate.name, candidate.identity)]))
    for place in places.values():
        place.close()
    return late


def _crash_record(root, status):
    """The child died before handing anything over: what is in the sandbox is left over."""
    record = TestRecord("run")
    how = ("was killed by signal %d" % -status if status < 0 else "exited with status %d" % status)
    record.notes.append("the test process %s before tempguard could judge its files; "
                        "they were removed" % how)
    for name in root.sandbox.names():
        st = root.sandbox.stat(name)
        if st is not None:
            record.leaks.append(Leak(os.path.join(root.tmp, name),
                                     _ownership.kind_of(st.st_mode), "sandbox", "exit", "run"))
    return record


class _ChildClock(object):
    """unittest.runner's clock while it prints the child's lines: the child's run time."""

    def __init__(self, seconds):
        self._readings = [0.0, seconds]

    def perf_counter(self):
        return self._readings.pop(0) if self._readings else 0.0

    time = perf_counter  # 3.6 and 3.7 time the run with time.time()


def _print_tail(tail, late, settings, verbosity, counts):
    """Print unittest's closing lines as the child would have, with the leaks judged
    after exit as failures (fail mode); return the exit status unittest would give."""
    runner = unittest.TextTestRunner(verbosity=verbosity)
    result = runner._makeResult()
    result.errors = [(_report.Described(name), text) for name, text in tail["errors"]]
    result.failures = [(_report.Described(name), text) for name, text in tail["failures"]]
    owners = {}
    for record, leak in late:
        owners.setdefault(leak.owner or record.id, []).append(leak)
        if record.outcome == "passed":
            counts["passed"] -= 1
        if record.outcome is not None:
            record.outcome = "failed"
    for owner, leaks in owners.items():
        result.failures.append((_report.Described(owner), "AssertionError: %s\n"
                                % _report.leak_message(owner, leaks, settings.origins_mode)))
        if verbosity > 1:
            runner.stream.writeln("%s ... FAIL" % owner)
        elif verbosity == 1:
            runner.stream.write("F")
    result.unexpectedSuccesses = [_report.Described(name) for name in tail["unexpected_successes"]]
    result.skipped = [None] * tail["skipped"]
    result.expectedFailures = [None] * tail["expected_failures"]
    result.testsRun = tail["tests_run"]
    result.collectedDurations = [tuple(item) for item in tail["durations"]]
    counts["failed"] = len(result.failures)
    if hasattr(runner, "durations"):
        runner.durations = tail["durations_option"]
    clock, unittest.runner.time = unittest.runner.time, _ChildClock(tail["seconds"])
    try:
        runner._makeResult = lambda: result
        runner.run(lambda result: None)
    finally:
        unittest.runner.time = clock
    return 0 if result.wasSuccessful() else 1
