"""TempGuardMixin: a tracking context and leak check for every test of a TestCase."""

import functools
import pathlib
import sys
import unittest
import warnings
from typing import Any, ClassVar, Optional

from .real import os
from . import output as _output
from .errors import TempLeakWarning, UnsafePathError, leak_warnings_stay_warnings
from .guard import guarding_session
from .records import failing
from .scopes import class_scope, module_scope
from .session import Session, active_session
from .settings import Settings, checked_policy, class_policy
from .tracking import (Content, PathArg, TrackingContext, TreeSpec, as_bytes, check_affix,
                       current_context)

__all__ = ["TempGuardMixin"]

__unittest = True

_process_session = None


def _session():
    """The runner's session if one is active, else this process's own (made on first use)."""
    global _process_session
    session = active_session()
    if session is not None:
        return session
    if (_process_session is None or _process_session.stopped
            or _process_session.root is None):
        _process_session = Session(Settings(), owns_run=False).start()
    return _process_session


class _OutcomeSpy(object):
    """Forwards everything to the real result, noting whether the test failed."""

    def __init__(self, result):
        self._result = result
        self.failed = False

    def __getattr__(self, name):
        value = getattr(self._result, name)
        if name == "addSubTest":
            # Only where the result has it: unittest asks (older pytest's results have none).
            def addSubTest(test, subtest, err):
                if err is not None:
                    self.failed = True
                return value(test, subtest, err)
            return addSubTest
        return value

    def addFailure(self, test, err):
        self.failed = True
        return self._result.addFailure(test, err)

    def addError(self, test, err):
        self.failed = True
        return self._result.addError(test, err)


class TempGuardMixin(object):
    """Mix into a TestCase: ``class MyTest(tempguard.TempGuardMixin, unittest.TestCase)``.

    Each test runs in its own tracking context, current from setUp to the last
    cleanup and cleaned after it, whatever the outcome. Under TempGuardRunner
    the runner does the work; under any other runner the mixin does it.
    Class attributes ``tempguard_leaks`` and ``tempguard_keep`` override the
    run's policies for one class.
    """

    tempguard_leaks: ClassVar[Optional[str]] = None
    tempguard_keep: ClassVar[Optional[str]] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in ("leaks", "keep"):
            checked_policy(name, cls.__dict__.get("tempguard_" + name),
                           "%s.%s.tempguard_%s" % (cls.__module__, cls.__qualname__, name))
        # No addClassCleanup before 3.8: wrap the class fixtures themselves. A
        # class with its own setUpClass gets its inherited tearDownClass
        # wrapped too, so its scope closes when the class is done.
        own = {name: cls.__dict__.get(name) for name in ("setUpClass", "tearDownClass")}
        if isinstance(own["setUpClass"], classmethod):
            cls.setUpClass = classmethod(_wrap_set_up_class(own["setUpClass"].__func__))
            if not isinstance(own["tearDownClass"], classmethod):
                own["tearDownClass"] = classmethod(cls.tearDownClass.__func__)
        if isinstance(own["tearDownClass"], classmethod):
            cls.tearDownClass = classmethod(_wrap_tear_down_class(own["tearDownClass"].__func__))
        _wrap_module_fixtures(sys.modules.get(cls.__module__))

    def run(self, result: Optional[unittest.TestResult] = None
            ) -> Optional[unittest.TestResult]:
        if guarding_session(result) is not None:
            return super().run(result)
        standalone = result is None
        if standalone:
            result = self.defaultTestResult()
            result.startTestRun()
        spy = _OutcomeSpy(result)
        guard = _session().begin_test(self.id())
        leak_policy = self._tempguard_policy("leaks")
        if leak_policy == "fail":
            # Runs last of all cleanups, and early enough to fail the test.
            self.addCleanup(self._tempguard_check_leaks, guard)
        try:
            super().run(spy)
        finally:
            record = guard.finish(spy.failed, self._tempguard_policy("keep"))
            record.outcome = "failed" if spy.failed else "passed"
            if record.kept:
                _output.note_kept(result, self, record.kept)
            new = [leak for leak in record.leaks if not leak.known]
            if new and leak_policy == "warn":
                message = _output.leak_message(self.id(), new, _session().settings)
                _apply_leak_policy("warn", message, self)
            if record.cleanup_errors:  # no runner's section lists them: said here
                _apply_leak_policy("warn", "tempguard: %s: could not remove\n%s" % (
                    self.id(), "".join("  %s\n" % _output.display(problem)
                                       for problem in record.cleanup_errors)), self)
            if standalone:
                result.stopTestRun()
        return result

    def _tempguard_policy(self, name):
        value = checked_policy(name, getattr(self, "tempguard_" + name),
                               "%s.tempguard_%s" % (self.id(), name))
        return value if value is not None else getattr(_session().settings, name)

    def _tempguard_check_leaks(self, guard):
        leaks = [leak for leak in guard.find_leaks() if not leak.known]  # see baseline
        if leaks:
            raise self.failureException(_output.leak_message(
                self.id(), leaks, _session().settings))

    # -- helpers ---------------------------------------------------------------

    @property
    def temp_context(self) -> TrackingContext:
        """The TrackingContext of the running test."""
        return current_context()

    def temp_file(self, content: Content = None, suffix: str = "", name: Optional[str] = None,
                  encoding: str = "utf-8") -> pathlib.Path:
        """A new file, removed after the test; with *name*, exactly that name."""
        if name is None:
            return self.temp_context.file(content, suffix=suffix, encoding=encoding)
        filename = _check_name(name) + check_affix(suffix, "suffix")
        data = as_bytes(content, encoding)
        return self.temp_context.tree({filename: data}, root=self._tempguard_named_root()) \
            / filename

    def temp_dir(self, name: Optional[str] = None) -> pathlib.Path:
        """A new directory, removed with its contents after the test."""
        if name is None:
            return self.temp_context.directory()
        dirname = _check_name(name)
        return self.temp_context.tree({dirname + "/": None},
                                      root=self._tempguard_named_root()) / dirname

    def temp_tree(self, spec: TreeSpec) -> pathlib.Path:
        """A tree built from a dict (see TrackingContext.tree), removed after the test."""
        return self.temp_context.tree(spec)

    def register_temp(self, path: PathArg) -> pathlib.Path:
        """Adopt a path made by other code; it is removed after the test."""
        return self.temp_context.register(path)

    def assertNoTempLeaks(self) -> None:
        """Fail now if the test has left untracked temporary entries so far."""
        guard = _session().current_guard()
        leaks = guard.find_leaks() if guard is not None else []
        if leaks:
            raise self.failureException(_output.leak_message(
                self.id(), leaks, _session().settings))

    def assertTempCleaned(self, path: PathArg) -> None:
        """Fail if *path* still exists (links are not followed)."""
        path = os.fspath(path)
        if os.path.lexists(path):
            raise self.failureException("%s was not cleaned up: it still exists" % path)

    def _tempguard_named_root(self):
        """One directory per test for files and directories with chosen names."""
        context = self.temp_context
        cached = self.__dict__.get("_tempguard_named")
        if cached is None or cached[0] is not context:
            cached = (context, context.directory(suffix="-named"))
            self._tempguard_named = cached
        return cached[1]


def _check_name(name):
    if not isinstance(name, str):
        raise TypeError("name must be a str, not %s" % type(name).__name__)
    if name in ("", ".", "..") or "/" in name or "\0" in name or os.sep in name:
        raise UnsafePathError("name %r must be a single, non-empty path component" % name)
    return name


def _apply_leak_policy(policy, message, test_or_class):
    """Fail with *message*, or warn with it pointing at the test's own code."""
    if policy == "fail":
        raise test_or_class.failureException(message)
    if policy != "warn":
        return
    method = getattr(test_or_class, getattr(test_or_class, "_testMethodName", ""), None)
    code = getattr(method, "__code__", None)
    with leak_warnings_stay_warnings():
        if code is None:
            warnings.warn(TempLeakWarning(message), stacklevel=3)
            return
        # The module the test's code is in: an inherited test's is not its class's (the
        # class's source would be read for the line, and be too short).
        name = getattr(method, "__module__", None) or test_or_class.__module__
        warnings.warn_explicit(TempLeakWarning(message), TempLeakWarning, code.co_filename,
                               code.co_firstlineno, module=name,
                               module_globals=getattr(sys.modules.get(name), "__dict__", None))


def _observes_fixtures(session):
    """The runner watches between tests itself; the mixin only does so elsewhere."""
    return session is not None and session.owns_run


def _wrap_set_up_class(set_up_class):
    def setUpClass(cls):
        session = active_session()
        if _observes_fixtures(session) and not session.scopes.between_tests:
            return set_up_class(cls)  # called by hand, inside a test
        if _observes_fixtures(session):
            # The runner sees one stretch before the first test: mark where the class's begins.
            module = sys.modules.get(cls.__module__)
            if module is not None and hasattr(module, "setUpModule"):
                session.scopes.end_phase(*module_scope(cls.__module__))
                session.scopes.begin_phase(continuing=True)
        else:
            session = _session()
            session.scopes.begin_phase()
        try:
            return set_up_class(cls)
        finally:
            session.scopes.end_phase(*class_scope(cls))
            if _observes_fixtures(session):
                session.scopes.begin_phase(continuing=True)
    setUpClass.__doc__ = set_up_class.__doc__
    return setUpClass


def _wrap_tear_down_class(tear_down_class):
    def tearDownClass(cls):
        if _observes_fixtures(active_session()):
            return tear_down_class(cls)
        try:
            return tear_down_class(cls)
        finally:
            _close_scope(class_scope(cls)[0], cls)
    tearDownClass.__doc__ = tear_down_class.__doc__
    return tearDownClass


def _close_scope(key, test_class):
    session = _session()
    for record, leaks in failing(session.scopes.close_scopes([key])):
        _apply_leak_policy(
            class_policy(test_class, "leaks") or session.settings.leaks,
            _output.leak_message(record.id, leaks, session.settings), test_class)


def _wrap_module_fixtures(module):
    """Under another runner, watch the module's setUpModule and tearDownModule as the
    runner would: those defined above the module's first TempGuardMixin class."""
    for name, wrap in (("setUpModule", _wrap_set_up_module),
                       ("tearDownModule", _wrap_tear_down_module)):
        fixture = getattr(module, name, None)
        if callable(fixture) and not hasattr(fixture, "_tempguard_wrapped"):
            wrapper = functools.wraps(fixture)(wrap(fixture, module.__name__))
            wrapper._tempguard_wrapped = fixture
            setattr(module, name, wrapper)


def _wrap_set_up_module(set_up_module, module_name):
    def setUpModule(*args, **kwargs):
        if _observes_fixtures(active_session()):
            return set_up_module(*args, **kwargs)
        session = _session()
        session.scopes.begin_phase()
        try:
            return set_up_module(*args, **kwargs)
        finally:
            session.scopes.end_phase(*module_scope(module_name))
    return setUpModule


def _wrap_tear_down_module(tear_down_module, module_name):
    def tearDownModule(*args, **kwargs):
        if _observes_fixtures(active_session()):
            return tear_down_module(*args, **kwargs)
        try:
            return tear_down_module(*args, **kwargs)
        finally:
            _close_scope(module_scope(module_name)[0], _ModuleAsClass)
    return tearDownModule


class _ModuleAsClass(object):
    """What a module fixture's leak warning or failure points at."""

    failureException = AssertionError
    tempguard_leaks = None
