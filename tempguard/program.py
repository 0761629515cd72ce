"""TempGuardRunner and the command line of ``python -m tempguard.runner``."""

import argparse
import functools
import os
import signal
import sys
import unittest

from . import report as _report
from .result import TempGuardResult
from .session import KEEP_POLICIES, LEAK_POLICIES, Settings, check_report_path

__all__ = ["TempGuardRunner", "TempGuardProgram", "main"]

PROG = "python -m tempguard.runner"


class TempGuardRunner(unittest.TextTestRunner):
    """unittest's text runner with tempguard around every test.

    Accepts TextTestRunner's arguments plus ``leaks``, ``keep``, ``keep_runs``,
    ``report`` and ``watch``; any left as None come from TEMPGUARD_*
    environment variables. Works as ``unittest.main(testRunner=...)`` and as a
    Django-style ``test_runner``.
    """

    resultclass = TempGuardResult

    def __init__(self, *args, leaks=None, keep=None, keep_runs=None, report=None, watch=None,
                 **kwargs):
        super().__init__(*args, **kwargs)
        self.tempguard_settings = Settings(leaks=leaks, keep=keep, keep_runs=keep_runs,
                                           report=report, watch=watch)

    def _makeResult(self):
        result = super()._makeResult()
        result.tempguard_settings = self.tempguard_settings
        return result

    def run(self, test):
        result = super().run(test)
        session = getattr(result, "session", None)
        if session is not None:
            _report.write_section(self.stream, session.records, session.fixture_records)
            if self.tempguard_settings.report:
                _report.write_json(self.tempguard_settings.report, result.tempguard_report())
        return result


class TempGuardProgram(unittest.TestProgram):
    """unittest's command line with tempguard's options; runs with TempGuardRunner."""

    def _getParentArgParser(self):
        parser = super()._getParentArgParser()
        group = parser.add_argument_group("tempguard")
        group.add_argument("--leaks", choices=LEAK_POLICIES,
                           help="what a leak does: ignore, warn (default) or fail the test")
        group.add_argument("--keep", choices=KEEP_POLICIES,
                           help="keep temp files of no test, failed tests (default) or all")
        group.add_argument("--keep-runs", type=_whole_number, metavar="N",
                           help="runs whose kept files are kept (default 3)")
        group.add_argument("--report", type=_report_file, metavar="PATH",
                           help="write a JSON report to PATH")
        group.add_argument("--watch", action="append", type=_directory, metavar="DIR",
                           help="also watch DIR for leaks (repeatable)")
        return parser

    def runTests(self):
        if self.testRunner is None:
            self.testRunner = TempGuardRunner
        if isinstance(self.testRunner, type) and issubclass(self.testRunner, TempGuardRunner):
            options = {name: getattr(self, name) for name in
                       ("verbosity", "failfast", "buffer", "warnings", "tb_locals", "durations")
                       if hasattr(self, name)}
            self.testRunner = self.testRunner(
                leaks=getattr(self, "leaks", None), keep=getattr(self, "keep", None),
                keep_runs=getattr(self, "keep_runs", None), report=getattr(self, "report", None),
                watch=getattr(self, "watch", None), **options)
        super().runTests()


def _whole_number(text):
    try:
        number = int(text)
    except ValueError:
        number = -1
    if number < 0:
        raise argparse.ArgumentTypeError("%r is not a whole number >= 0" % text)
    return number


def _report_file(text):
    try:
        return check_report_path(text)
    except OSError as problem:
        raise argparse.ArgumentTypeError(str(problem))


def _directory(text):
    if not os.path.isdir(text):
        raise argparse.ArgumentTypeError("%r is not an existing directory" % text)
    return os.path.abspath(text)


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised where KeyboardInterrupt would be so that cleanup runs."""


def _on_sigterm(runner_pid, signum, frame):
    if os.getpid() != runner_pid:
        # A child a test forked dies as it would without us, not inside our runner.
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        return
    raise _Terminated()


def main(argv=None):
    """Entry point of ``python -m tempguard.runner``; exits like ``python -m unittest``."""
    argv = list(sys.argv if argv is None else argv)
    argv[0] = PROG
    try:
        Settings()
    except (ValueError, OSError) as exc:
        sys.stderr.write("%s: error: %s\n" % (PROG, exc))
        sys.exit(2)
    previous = signal.signal(signal.SIGTERM, functools.partial(_on_sigterm, os.getpid()))
    try:
        TempGuardProgram(module=None, argv=argv)
    except _Terminated:
        sys.exit(128 + signal.SIGTERM)
    finally:
        signal.signal(signal.SIGTERM, previous)
