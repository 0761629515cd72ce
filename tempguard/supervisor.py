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

import signal
import sys
import unittest

from .real import os
from . import capabilities as _capabilities
from . import handoff as _handoff
from . import invocation as _invocation
from . import jsonreport as _jsonreport
from . import output as _output
from . import ownership as _ownership
from .children import CHILD_GRACE_SECONDS, ChildDir, wait_until_free
from .closing import close_run, leaked_status
from .held import HeldDirectory
from .judge import Judge, existing, found_in
from .keep import Keeper
from .reaper import remove_when_free
from .records import by_owner, run_record

__all__ = ["fork", "supervise"]

__unittest = True


def fork():
    """Fork the test process: 0 in the child, the child's pid in the supervisor.

    The child dies with the supervisor (Linux), as a test process killed with
    it would. Outside a terminal's foreground it gets a process group of its
    own, so that a signal sent to the run's group reaches it once: passed on
    by the supervisor (see supervise).
    """
    for stream in (sys.stdout, sys.stderr):
        stream.flush()  # or both processes would write what is buffered
    parent = os.getpid()
    apart = not _terminal_foreground()
    pid = os.fork()
    if pid == 0:
        if apart:
            os.setpgid(0, 0)
        if sys.platform.startswith("linux"):
            import ctypes  # only here: the child needs it once
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
            if os.getppid() != parent:
                os._exit(1)  # the supervisor died before the request took effect
    elif apart:
        try:
            os.setpgid(pid, pid)  # as the child does: whichever runs first
        except OSError:
            pass
    return pid


def supervise(pid, root, channel, settings, verbosity):
    """Wait for the test process *pid*, then judge what it handed over *channel*
    (see handoff), report and clean up; its exit status.

    The status is as subprocess gives it: negative for a signal.
    """
    previous = {}
    together = os.getpgid(pid) == os.getpgrp()
    # In a terminal's foreground, its Ctrl-C reaches the child too; otherwise SIGINT,
    # SIGTERM and SIGHUP (a closed terminal, a CI runner's hang-up) are passed on. The
    # child keeps unittest's dispositions: SIGTERM and SIGHUP kill it, and what it left
    # is judged here, whatever arrives meanwhile.
    for signum, already_delivered in ((signal.SIGINT, lambda: together and
                                       _terminal_foreground()),
                                      (signal.SIGTERM, lambda: False),
                                      (getattr(signal, "SIGHUP", None), lambda: False)):
        if signum is not None and signal.getsignal(signum) != signal.SIG_IGN:
            previous[signum] = signal.signal(signum, _pass_on(pid, already_delivered))
    try:
        _, status = os.waitpid(pid, 0)
        status = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        handoff = _received(channel)
        return _judge_after_exit(root, handoff, settings, verbosity, status)
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


def _terminal_foreground():
    """True when this process's group is the foreground of its controlling terminal,
    whose Ctrl-C reaches the whole group (stdin may be a file or a pipe)."""
    try:
        fd = os.open("/dev/tty", os.O_RDONLY | _capabilities.O_CLOEXEC | os.O_NOCTTY)
    except OSError:
        return False  # no controlling terminal
    try:
        return os.tcgetpgrp(fd) == os.getpgrp()
    except OSError:
        return False
    finally:
        os.close(fd)


def _judge_children(entries, late, settings):
    """The dirs of children that outlived the test process (pool workers often exit
    only after it): wait twice CHILD_GRACE_SECONDS for them, then judge what they left as
    leaks of their starter, added to *late*. The scopes of those that still run, each
    noted: they are removed once free (see reaper)."""
    scopes = []
    for entry in entries:
        try:
            held = HeldDirectory(entry.path)
        except OSError:
            continue  # gone, or replaced: nothing of ours is there to judge
        scope = ChildDir(os.path.basename(entry.path), entry.path, held, older=frozenset())
        scope.owner, scope.record = entry.owner, entry.record
        scope.processes = entry.processes
        scope.names_at_end = entry.names_at_end
        scopes.append(scope)
    # Both waits the test process and this one each had: it hands them over at once,
    # so that its wait is not counted in unittest's timed run.
    running = wait_until_free(scopes, 2 * CHILD_GRACE_SECONDS)
    judge = Judge(settings)
    for scope in scopes:
        if scope in running:
            scope.record.notes.append(scope.still_used(scope.user()))
        else:
            found = found_in(scope.held, scope.held.names(), scope.owner, scope.record,
                             scope.origin)
            late.extend((record, leak) for record, leaks in judge.confirm(found, "child")
                        for leak in leaks)
        scope.held.close()
    return running


def _received(channel):
    try:
        received = channel.receive()
        return _handoff.load(received) if received is not None else None
    except ValueError:  # cut short: the test process died while handing over
        return None
    finally:
        channel.close()


def _judge_after_exit(root, handoff, settings, verbosity, status):
    if handoff is not None and handoff.usage_error is not None:
        root.close(settings.keep_runs)  # no test ran: the test process said why
        return status
    records, fixture_records, late, counts, reported = [], [], [], None, ()
    still_running = []
    if handoff is not None:
        records, fixture_records = handoff.records, handoff.fixture_records
        late = _judge_waiting(root, handoff.waiting, settings)
        still_running = _judge_children(handoff.children_running, late, settings)
        counts = handoff.counts
        reported = set(handoff.reported).union(os.path.basename(leak.path) for _, leak in late)
        if handoff.tail is not None:
            status = _print_tail(handoff.tail, late, settings, verbosity, counts)
    run = run_record(fixture_records)
    if handoff is None:
        how = ("was killed by signal %d" % -status if status < 0
               else "exited with status %d" % status)
        run.notes.append("the test process %s without handing its records over" % how)
        run.notes.extend(root.replaced())  # else the test process noted them already
    unjudged = list_unjudged(root.sandbox, run, reported, settings)
    if not still_running:
        run.add_removal(root.close(settings.keep_runs))
    if unjudged:
        removed = ("removed once no process uses the run" if still_running else "%d removed"
                   % sum(1 for path in unjudged if not os.path.lexists(path)))
        run.notes.append("%d %s left in the sandbox that the test process never judged: "
                         "listed as leaks of the run; %s"
                         % (len(unjudged), "entry was" if len(unjudged) == 1 else "entries were",
                            removed))
    if still_running:
        problem = remove_when_free(root, still_running, settings.keep_runs)
        if problem:
            run.notes.append(problem)
    if not (run.notes or run.cleanup_errors or run.leaks):
        fixture_records.remove(run)

    close_run(sys.stderr, records, fixture_records, counts, settings,
              lambda baseline: _jsonreport.write_run_report(
                  records, fixture_records, settings, counts, baseline, root.invocation,
                  _invocation.part_id()))
    return leaked_status(status, records, fixture_records, settings)


_UNJUDGED_ORIGIN = {"found": "found in the sandbox after the test process ended"}


def list_unjudged(sandbox, run, reported, settings, origin=_UNJUDGED_ORIGIN):
    """What is left in *sandbox* (a HeldDirectory) that its process never reported: it
    handed nothing over, or was interrupted or killed before it judged. Leaks of the
    run (*run*, its record), made as *origin* says; their paths."""
    found = found_in(sandbox, [name for name in sandbox.names() if name not in reported],
                     "run", run, lambda name: origin)
    Judge(settings).confirm(found, "exit")
    return [_ownership.candidate_path(candidate) for candidate in found]


def _judge_waiting(root, waiting, settings):
    """Judge what the child left waiting for exit ([handoff.Waiting]), as its own judge
    would have; remove the sandbox's leaks, or move them into their kept dir."""
    keeper = Keeper(settings)
    judge = Judge(settings, keeper=keeper)
    places = {}
    unconfirmed, confirmed = [], []
    for entry in waiting:
        place = root.sandbox if entry.where == "sandbox" else places.get(entry.dir)
        if place is None:
            try:
                place = places[entry.dir] = HeldDirectory(entry.dir)
            except OSError:
                continue
        candidate = _ownership.Candidate(place, entry.name, entry.identity, entry.kind,
                                         entry.where, entry.owner, entry.record, 0, entry.origin)
        if entry.kept is not None:
            keeper.keep_when_confirmed(candidate, entry.kept)
        (confirmed if entry.confirmed else unconfirmed).append(candidate)
    late = [(record, leak) for record, leaks in judge.confirm(existing(unconfirmed), "exit")
            for leak in leaks]
    judge.remove_judged()
    judge.remove([candidate for candidate in existing(confirmed)
                  if candidate.where == "sandbox"], allow_cwd=True)
    for place in places.values():
        place.close()
    return late


class _ChildClock(object):
    """unittest.runner's clock while it prints the child's lines: the child's run time.

    TextTestRunner.run reads its clock exactly twice, before and after running
    the tests (3.6 to 3.13; test_owners checks the time printed).
    """

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
    result.errors = [(_output.Described(name), text) for name, text in tail["errors"]]
    result.failures = [(_output.Described(name), text) for name, text in tail["failures"]]
    late = [(record, leak) for record, leak in late if not leak.known]  # see baseline
    owners = by_owner(late)
    for record, _leak in late:
        if record.outcome == "passed":
            counts["passed"] -= 1
        if record.outcome is not None:
            record.outcome = "failed"
    for owner, leaks in owners.items():
        result.failures.append((_output.Described(owner), "AssertionError: %s\n"
                                % _output.leak_message(owner, leaks, settings)))
        if verbosity > 1:
            runner.stream.writeln("%s ... FAIL" % owner)
        elif verbosity == 1:
            runner.stream.write("F")
    result.unexpectedSuccesses = [_output.Described(name) for name in tail["unexpected_successes"]]
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
