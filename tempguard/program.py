"""TempGuardRunner and the command line of ``python -m tempguard.runner``."""

import argparse
import contextlib
import functools
import importlib
import runpy
import signal
import sys
import tempfile
import traceback
import unittest
from typing import Any, Union

from .real import os
from . import capabilities as _capabilities
from . import handoff as _handoff
from . import invocation as _invocation
from .inputs import check_output_file
from . import sandbox as _sandbox
from . import supervisor as _supervisor
from .baseline import resolve as resolve_baseline
from .closing import leaked_status
from .keep import KeepDir
from .result import TempGuardResult
from .session import Session
from .settings import (OPTIONS, SETTING_NAMES, Settings, byte_count, class_policy,
                       directory_argument, exit_code, whole_number)

__all__ = ["TempGuardRunner", "TempGuardProgram", "guarded_result_class", "main"]

PROG = "python -m tempguard.runner"


class TempGuardRunner(unittest.TextTestRunner):
    """unittest's text runner with tempguard around every test.

    Accepts TextTestRunner's arguments plus tempguard's settings (see
    settings.SETTING_NAMES: ``leaks``, ``keep``, ``report``, ``baseline``...); any
    left as None come from TEMPGUARD_* environment variables. Works as
    ``unittest.main(testRunner=...)`` and as a Django-style ``test_runner``. A
    ``resultclass`` of the caller's own (as unittest-parallel passes) is
    guarded: tempguard's result methods run first, then its own.
    """

    resultclass = TempGuardResult

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("resultclass") is not None:
            kwargs["resultclass"] = guarded_result_class(kwargs["resultclass"])
        settings = {name: kwargs.pop(name) for name in SETTING_NAMES if name in kwargs}
        super().__init__(*args, **kwargs)
        self.tempguard_settings = Settings(**settings)
        self.tempguard_session = None  # a supervised run's, started before its tests loaded
        self._followed = None

    def _makeResult(self):
        result = super()._makeResult()
        result.tempguard_settings = self.tempguard_settings
        result.tempguard_session = self.tempguard_session
        result.tempguard_followed = self._followed
        return result

    def run(self, test: Union[unittest.TestSuite, unittest.TestCase]) -> unittest.TestResult:
        """Run *test* as TextTestRunner does; a test class's bad policy, or a --keep-dir
        another live run uses, is a usage error (exit 2) before any test runs."""
        try:
            resolve_baseline(self.tempguard_settings)
            for cls in set(type(case) for case in _flatten(test)):
                class_policy(cls, "leaks"), class_policy(cls, "keep")
            keep_dir = self.tempguard_settings.keep_dir
            if keep_dir and self.tempguard_session is None:  # else its supervisor took it
                KeepDir.open(keep_dir, _invocation.current_id()).close()
        except (ValueError, OSError) as error:
            self.stream.writeln("tempguard: error: %s" % error)
            self.stream.flush()
            if self.tempguard_session is not None:
                self.tempguard_session.refuse(str(error))
            raise SystemExit(2)
        self._followed = _FollowedTests(test)
        result = super().run(test)
        session = getattr(result, "session", None)
        if session is not None and not session.supervised:
            session.close(self.stream, result.tempguard_counts())
            result.tempguard_status = leaked_status(
                0, session.records, session.fixture_records, session.settings)
        return result


def guarded_result_class(resultclass):
    """A result class that guards every test and otherwise does what *resultclass* does.

    *resultclass* is a TestResult subclass, or a functools.partial of one
    (its arguments are kept); a TempGuardResult is returned as it is.
    """
    if isinstance(resultclass, functools.partial):
        return functools.partial(guarded_result_class(resultclass.func),
                                 *resultclass.args, **resultclass.keywords)
    if not (isinstance(resultclass, type) and issubclass(resultclass, unittest.TestResult)):
        raise TypeError("TempGuardRunner's resultclass must be a unittest.TestResult class "
                        "(or a functools.partial of one), not %r" % (resultclass,))
    if issubclass(resultclass, TempGuardResult):
        return resultclass
    guarded = _GUARDED.get(resultclass)
    if guarded is None:
        guarded = _GUARDED[resultclass] = type(
            "TempGuarded" + resultclass.__name__, (TempGuardResult, resultclass),
            {"__module__": __name__, "__doc__": "%s, with every test guarded by tempguard."
             % resultclass.__qualname__})
    return guarded


_GUARDED = {}


class _FollowedTests(object):
    """ids of the tests that another test of the same class follows in a suite's order.

    Worked out when first asked (when a test first leaves something): unittest
    drops the tests it has run from the suite, never the one running.
    """

    def __init__(self, suite):
        self._suite = suite
        self._ids = None

    def __call__(self):
        if self._ids is None:
            self._ids, previous = set(), None
            for test in _flatten(self._suite):
                if previous is not None and type(previous) is type(test):
                    self._ids.add(id(previous))
                previous = test
        return self._ids


def _flatten(suite):
    pending = [iter([suite])]
    while pending:
        for item in pending[-1]:
            if isinstance(item, unittest.TestSuite):
                pending.append(iter(item))
                break
            yield item
        else:
            pending.pop()


class TempGuardProgram(unittest.TestProgram):
    """unittest's command line with tempguard's options; runs with TempGuardRunner."""

    session = None  # a supervised run's (see _SupervisedProgram)

    def _getParentArgParser(self):
        parser = super()._getParentArgParser()
        group = parser.add_argument_group("tempguard")
        types = {"keep_runs": _whole_number, "report": _report_file,
                 "watch": directory_argument, "leaks_exit_code": _exit_code,
                 "keep_max_bytes": _byte_count}  # checked as argparse checks its own
        for name, keywords, help_text in OPTIONS:
            if name in types:
                keywords = dict(keywords, type=types[name])
            group.add_argument("--" + name.replace("_", "-"), help=help_text, **keywords)
        return parser

    def settings(self):
        """The run's Settings from the parsed options."""
        return Settings(**{name: getattr(self, name, None) for name in SETTING_NAMES})

    def runTests(self):
        if self.testRunner is None:
            self.testRunner = TempGuardRunner
        if isinstance(self.testRunner, type) and issubclass(self.testRunner, TempGuardRunner):
            options = {name: getattr(self, name) for name in
                       ("verbosity", "failfast", "buffer", "warnings", "tb_locals", "durations")
                       if hasattr(self, name)}
            options.update((name, getattr(self, name, None)) for name in SETTING_NAMES)
            self.testRunner = self.testRunner(**options)
            self.testRunner.tempguard_session = self.session
        try:
            super().runTests()
        except SystemExit as stop:
            leaked = getattr(getattr(self, "result", None), "tempguard_status", 0)
            if stop.code in (0, False, None) and leaked:
                raise SystemExit(leaked)  # every test passed, but new leaks: --leaks-exit-code
            raise


class _SupervisedProgram(TempGuardProgram):
    """The test process of a supervised run, in the run root its supervisor made (with
    no *run_root*, where there is no fork, a run judged in this process).

    Its session starts before the test modules are imported, so that what an
    import makes is in the sandbox, and judged (see FixtureScopes.end_loading).
    """

    def __init__(self, run_root, channel, **kwargs):
        self._run_root = run_root
        self._channel = channel
        kwargs["testLoader"] = _WatchedLoader(
            kwargs.get("testLoader") or unittest.defaultTestLoader, self._loading)
        super().__init__(**kwargs)

    @contextlib.contextmanager
    def _loading(self):
        """While the tests load (the options are parsed by then): the session, started
        and watching."""
        if self.session is not None:
            yield
            return
        self.session = Session(self.settings(), root=self._run_root,
                               channel=self._channel).start()
        self.session.scopes.begin_loading()
        try:
            yield
        finally:
            self.session.scopes.end_loading()


class _WatchedLoader(object):
    """The program's test loader, loading inside *loading()*: the one place all of
    unittest's ways of loading go through on every Python (3.6's discovery does
    not call createTests)."""

    _LOADING = ("discover", "loadTestsFromModule", "loadTestsFromName", "loadTestsFromNames")

    def __init__(self, loader, loading):
        object.__setattr__(self, "_loader", loader)
        object.__setattr__(self, "_loading", loading)

    def __getattr__(self, name):
        value = getattr(self._loader, name)
        if name not in self._LOADING:
            return value

        def load(*args, **kwargs):
            with self._loading():
                return value(*args, **kwargs)
        return load

    def __setattr__(self, name, value):
        setattr(self._loader, name, value)  # 3.7+ sets testNamePatterns on it


class _NoTests(unittest.TestLoader):
    """Loads nothing: the supervisor parses the command line, the child loads the tests."""

    def loadTestsFromNames(self, *args, **kwargs):
        return unittest.TestSuite()

    loadTestsFromModule = discover = loadTestsFromNames


class _OptionsOnly(TempGuardProgram):
    """The command line checked and parsed, no test imported or run (usage errors exit 2)."""

    def runTests(self):
        pass


def _whole_number(text):
    number = whole_number(text)
    if number is None:
        raise argparse.ArgumentTypeError("%r is not a whole number >= 0" % text)
    return number


def _exit_code(text):
    code = exit_code(text)
    if code is None:
        raise argparse.ArgumentTypeError("%r is not an exit status from 1 to 255" % text)
    return code


def _byte_count(text):
    number = byte_count(text)
    if number is None:
        raise argparse.ArgumentTypeError("%r is not a number of bytes (such as 500000, 64K, "
                                         "10M or 2G)" % text)
    return number


def _report_file(text):
    try:
        return check_output_file(text, "report")
    except OSError as problem:
        raise argparse.ArgumentTypeError(str(problem))


def main(argv=None):
    """Entry point of ``python -m tempguard.runner``; exits like ``python -m unittest``.

    Call it only as a program's entry point: it forks, and the tests run in
    the child, which exits through the caller's frames, so that what they
    leave can be judged after every exit-time owner is done.
    """
    argv = list(sys.argv if argv is None else argv)
    argv[0] = PROG
    try:
        Settings()
        options = _OptionsOnly(module=None, argv=argv, testLoader=_NoTests(), exit=False)
        settings = resolve_baseline(options.settings())
    except (ValueError, OSError) as exc:
        sys.stderr.write("%s: error: %s\n" % (PROG, exc))
        sys.exit(2)
    if not _capabilities.FORK:
        _run_tests(argv, None, None)  # in this process, as unittest runs them (see runTests)
        return
    try:
        root = _sandbox.RunRoot.create(os.path.realpath(tempfile.gettempdir()),
                                       _invocation.current_id())
    except (ValueError, OSError) as exc:
        sys.stderr.write("%s: error: %s\n" % (PROG, exc))
        sys.exit(2)
    try:
        # Taken by the supervisor, so that the test process (its child) shares it.
        keep_dir = settings.keep_dir and KeepDir.open(settings.keep_dir, root.invocation)
    except OSError as exc:
        root.close(settings.keep_runs)
        sys.stderr.write("%s: error: %s\n" % (PROG, exc))
        sys.exit(2)
    channel = _handoff.Channel(root)
    pid = _supervisor.fork()
    if pid == 0:
        _run_tests(argv, root, channel)
        return
    status = _supervisor.supervise(pid, root, channel, settings, options.verbosity)
    if keep_dir:
        keep_dir.close()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    if status < 0:
        # Die of the same signal the tests died of, as plain unittest would have.
        signal.signal(-status, signal.SIG_DFL)
        os.kill(os.getpid(), -status)
    # The supervisor ran no code of the user's: nothing is left to finalize.
    os._exit(status)


def _run_tests(argv, root, channel):
    """In the test process: ``python -m unittest`` itself, run as ``__main__``, so that
    tests see its argv[0], its ``__main__`` and its signal dispositions; its
    TestProgram is _SupervisedProgram for as long as it takes to start it (with no
    *root*, where there is no fork, judged in this process)."""
    unittest_main = importlib.import_module("unittest.main")
    original = unittest_main.main

    def program(**kwargs):
        unittest_main.main = original
        return _SupervisedProgram(root, channel, **kwargs)

    sys.argv[:] = argv
    unittest_main.main = program
    try:
        runpy.run_module("unittest", run_name="__main__", alter_sys=True)
    except (SystemExit, KeyboardInterrupt):
        raise
    except BaseException as error:
        _print_as_unittest(error)
        sys.exit(1)
    finally:
        unittest_main.main = original


def _print_as_unittest(error):
    """Print *error*, which stopped unittest itself (a start directory that is not
    importable, a module raising SkipTest as it is imported), as ``python -m unittest``
    prints it: without the frames of tempguard and of its run of unittest's __main__."""
    shown = traceback.TracebackException(type(error), error, error.__traceback__)
    chained, seen = shown, set()
    while chained is not None and id(chained) not in seen:
        seen.add(id(chained))
        chained.stack = traceback.StackSummary.from_list(
            [frame for frame in chained.stack if not _ours(frame, inner=True)])
        chained = chained.__cause__ or chained.__context__
    outer = [frame for frame in traceback.extract_stack(sys._getframe(1))
             if not _ours(frame, inner=False)]
    shown.stack = traceback.StackSummary.from_list(outer + list(shown.stack))
    sys.stderr.write("".join(shown.format()))


_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _ours(frame, inner):
    """True for a frame of tempguard, or (*inner*: below the run of unittest's __main__)
    of runpy, which ran it."""
    return (frame.filename.startswith(_PACKAGE)
            or inner and frame.filename in (runpy.__file__, "<frozen runpy>"))
