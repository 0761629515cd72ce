"""Fixture scopes: what runs between tests, and the class, module and run it belongs to.

unittest runs setUpModule, setUpClass and their teardowns between tests;
the loader imports the test modules before the first. Each such stretch is
a phase: what appears in it belongs to the innermost fixture scope, whose
end (tearDownClass, tearDownModule, the end of the run) judges it, with
what that scope's tests left for it. This is the concept pytest calls its
SetupState.

How the runner's result drives it, for m.A.test_1, m.A.test_2 and m.B.test_3,
where module m has a setUpModule::

    begin_phase()                      the first stretch: setUpModule, A's setUpClass
    end_phase(("module", "m"), "setUpModule (m)")
    test_1                             what it leaves may wait for A's end, or m's
    merge_phase()                      only unittest ran: test_2 goes on watching
    test_2
    begin_phase()                      A's tearDownClass, B's setUpClass
    end_phase(("class", "m", "B"), "setUpClass (m.B)")
    close_scopes([("class", "m", "A")])      what A and its tests left is judged
    test_3
    close_all()                        B, then m, then the run
"""

import collections
import sys

from . import ownership as _ownership
from . import watch as _watch
from .records import TestRecord
from .tracking import TrackingContext

__all__ = ["FixtureScope", "FixtureScopes", "class_scope", "module_scope"]


def class_scope(cls):
    """(key, id) of *cls*'s fixture scope: ("class", module, qualname), "setUpClass (m.C)"."""
    return (("class", cls.__module__, cls.__qualname__),
            "setUpClass (%s.%s)" % (cls.__module__, cls.__qualname__))


def module_scope(module_name):
    """(key, id) of a module's fixture scope: ("module", name), "setUpModule (name)"."""
    return ("module", module_name), "setUpModule (%s)" % module_name


class FixtureScope(object):
    """A class, module or run fixture scope: what its fixtures made, judged when it ends."""

    def __init__(self, scope_id):
        self.record = TestRecord(scope_id, is_listed=False)
        self.contexts = []
        self.pending = []


class FixtureScopes(object):
    """The phases between tests of one session, and the fixture scopes they feed.

    Keys are ("class", module, class id), ("module", module) or ("run",).
    """

    def __init__(self, session):
        self._session = session
        self._scopes = collections.OrderedDict()
        self._phase = None
        self._phase_context = None
        self._phase_children = None

    @property
    def between_tests(self):
        """True while a stretch between tests is watched (see begin_phase)."""
        return self._phase is not None

    def begin_phase(self, continuing=False):
        """Start watching a stretch between tests: class and module fixtures run there."""
        if not self._session.owns_run:
            self._session.redirect.apply()
        self._phase = _watch.Observation(self._session, continuing)

    def begin_loading(self):
        """Watch the import of the test modules, before the first test: what it leaves is
        judged at the end of the run, as the importing module's (see end_loading)."""
        self.begin_phase()

    def end_loading(self):
        """End the watch begun by begin_loading. Each entry that appeared is blamed on
        the import of the module whose top level made it, "import (pkg.mod)", or,
        where that cannot be told, "import (the tests)"; judged at the end of the run,
        since tests may use what their modules made."""
        observation, context = self._take_phase()
        run = self._scope(("run",), "run").record
        appeared = observation.appeared(run.id, run)
        appeared += self._take_phase_children(("run",), "run", observation)
        self._session.forget_origins()
        modules = {module.__file__: name for name, module in list(sys.modules.items())
                   if isinstance(getattr(module, "__file__", None), str)} if appeared else {}
        records = {}
        blamed = []
        for candidate in appeared:
            name = modules.get(_importing_file(candidate.origin), "the tests")
            record = records.get(name)
            if record is None:
                record = records[name] = TestRecord("import (%s)" % name, is_listed=False)
            blamed.append(candidate._replace(owner=record.id, record=record))
        if context is not None or blamed:
            self._attach(("run",), "run", context, blamed)

    def phase_context(self):
        """The context of this stretch between tests, made when first asked for."""
        if self._phase_context is None:
            self._phase_context = TrackingContext("fixtures")
        return self._phase_context

    def phase_child_dir(self):
        """The child dir of the processes started in this stretch (made when first asked
        for), or None outside one."""
        if self._phase is None:
            return None
        if self._phase_children is None:
            self._phase_children = self._session.children.dir_for(None)
        return self._phase_children

    def merge_phase(self):
        """End a phase in which no fixture ran; the next test goes on with its observation.

        Between two tests of one class only unittest runs, so what appears
        there is the next test's business; this saves two stats a test.
        """
        observation, context = self._take_phase()
        if context is None and self._phase_children is None:
            return observation  # once a test: nothing ran that made anything
        children = self._take_phase_children(self._innermost(), "run", observation)
        if context is not None or children:
            self._attach(self._innermost(), "run", context, children)
        return observation

    def end_phase(self, scope_key, scope_id):
        """Stop watching and hand what appeared to the scope *scope_key* (made if new),
        or to the innermost one if *scope_key* is None."""
        observation, context = self._take_phase()
        if scope_key is None:
            scope_key, scope_id = self._innermost(), "run"
        scope = self._scope(scope_key, scope_id)
        appeared = observation.appeared(scope.record.id, scope.record)
        appeared += self._take_phase_children(scope_key, scope_id, observation)
        self._session.forget_origins()
        if context is not None or appeared:
            self._attach(scope_key, scope_id, context, appeared)

    def close_scopes(self, keys):
        """End these scopes: clean their contexts, and judge what they and their tests left.

        A class's leftovers wait for its module's teardown if the module has
        one. Returns [(record, leaks)] confirmed now.
        """
        confirmed = []
        judge = self._session.judge
        for key in keys:
            scope = self._scopes.pop(key, None)
            level = key[0]
            module = key[1] if len(key) > 1 else None
            pending = []
            if scope is not None:
                record = scope.record
                for context in scope.contexts:
                    record.add_cleanup(context.stats, context.close())
                if record.created or record.cleanup_errors:
                    self._session.list_record(record)
                pending = scope.pending
            later = "module" if (level == "class" and module is not None
                                 and _ownership.module_may_own(module)) else None
            if level in ("class", "module"):
                confirmed += judge.judge_held(level, level, later, also=pending)
            else:
                confirmed += judge.judge(judge.settle(pending), level, later)
        return confirmed

    def close_all(self):
        """At the end of the run: end a phase still open, then every scope, inner first."""
        if self._phase is not None:
            self.end_phase(None, None)
        return self.close_scopes(sorted(self._scopes, key=_scope_rank))

    def _take_phase(self):
        observation, context = self._phase, self._phase_context
        self._phase = self._phase_context = None
        if not self._session.owns_run:
            self._session.redirect.restore()
        return observation, context

    def _take_phase_children(self, scope_key, scope_id, observation):
        children, self._phase_children = self._phase_children, None
        if children is None:
            return []
        return self._session.children.end_dir(
            children, self._scope(scope_key, scope_id).record, observation)

    def _innermost(self):
        return next(reversed(self._scopes), ("run",))

    def _scope(self, scope_key, scope_id):
        scope = self._scopes.get(scope_key)
        if scope is None:
            scope = self._scopes[scope_key] = FixtureScope(scope_id)
        return scope

    def _attach(self, scope_key, scope_id, context, appeared):
        scope = self._scope(scope_key, scope_id)
        if context is not None:
            scope.contexts.append(context)
        scope.pending.extend(appeared or ())


def _importing_file(origin):
    """The file of the outermost module top level among an entry's frames, or None."""
    if not origin or "file" not in origin:
        return None
    frames = [origin] + list(origin.get("stack", ()))
    return next((frame["file"] for frame in reversed(frames)
                 if frame["function"] == "<module>"), None)


def _scope_rank(key):
    """Inner scopes close first: classes, then modules, then the run."""
    return _ownership.LEVELS.index(key[0])
