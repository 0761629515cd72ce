"""Fixture scopes in process (tempguard.scopes): phases between tests and the scopes they feed.

Each test drives a real session as the runner's result would, in this test's
temp dir; files are made in its sandbox, where tempfile points during phases.
"""

import os
import sys
import tempfile
import types
import unittest

from tempguard import origins, settings
from tempguard.session import Session
from tests import support


def _make(prefix):
    fd, path = tempfile.mkstemp(prefix=prefix)
    os.close(fd)
    return path


class FixtureScopesTest(unittest.TestCase):

    def setUp(self):
        self.run = Session(settings.Settings(environ={}), owns_run=False).start()
        self.addCleanup(self.run.stop)
        self.scopes = self.run.scopes

    def names(self, leaks):
        return sorted(os.path.basename(leak.path)[:6] for leak in leaks)

    def test_what_a_phase_makes_is_its_scopes_and_judged_when_the_scope_ends(self):
        before = (tempfile.tempdir, os.environ.get("TMPDIR"))
        self.scopes.begin_phase()
        self.assertTrue(self.scopes.between_tests)
        path = _make("setupc")
        self.assertTrue(path.startswith(self.run.root.tmp), path)  # redirected meanwhile
        key = ("class", "m", "C")
        self.scopes.end_phase(key, "setUpClass (m.C)")
        self.assertEqual((tempfile.tempdir, os.environ.get("TMPDIR")), before)
        self.assertFalse(self.scopes.between_tests)
        self.assertTrue(os.path.exists(path))  # a test of the class may use it
        confirmed = self.scopes.close_scopes([key])
        ((record, leaks),) = confirmed
        self.assertEqual((record.id, self.names(leaks), leaks[0].judged),
                         ("setUpClass (m.C)", ["setupc"], "class"))
        self.assertIn(record, self.run.fixture_records)

    def test_a_class_leftover_waits_for_a_module_that_has_a_teardown(self):
        module = types.ModuleType("scoped_module")
        module.tearDownModule = lambda: None
        sys.modules["scoped_module"] = module
        self.addCleanup(sys.modules.pop, "scoped_module")
        self.scopes.begin_phase()
        _make("setupm")
        class_key, module_key = ("class", "scoped_module", "C"), ("module", "scoped_module")
        self.scopes.end_phase(class_key, "setUpClass (scoped_module.C)")
        self.assertEqual(self.scopes.close_scopes([class_key]), [])  # the module may remove it
        ((record, leaks),) = self.scopes.close_scopes([module_key])
        self.assertEqual((record.id, self.names(leaks), leaks[0].judged),
                         ("setUpClass (scoped_module.C)", ["setupm"], "module"))

    def test_between_two_tests_of_a_class_the_next_test_goes_on_watching(self):
        first = self.run.begin_test("m.C.test_1", continuing=True)
        first.finish(False, "none", later_owner=lambda: None)
        self.scopes.begin_phase(continuing=True)
        observation = self.scopes.merge_phase()  # no fixture ran: no stat, no scope
        second = self.run.begin_test("m.C.test_2", observation=observation)
        _make("second")
        second.finish(False, "none", later_owner=lambda: None)
        self.assertEqual(self.names(second.record.leaks), ["second"])
        self.assertEqual(first.record.leaks, [])

    def test_the_end_of_the_run_closes_every_scope_inner_first(self):
        self.scopes.begin_phase()
        _make("module")
        self.scopes.end_phase(("module", "m"), "setUpModule (m)")
        self.scopes.begin_phase()
        _make("klass_")
        self.scopes.end_phase(("class", "m", "C"), "setUpClass (m.C)")
        self.scopes.begin_phase()
        _make("atend_")  # a phase still open when the run ends: the innermost scope's
        confirmed = self.scopes.close_all()
        self.assertEqual([(record.id, self.names(leaks)) for record, leaks in confirmed],
                         [("setUpClass (m.C)", ["atend_", "klass_"]),
                          ("setUpModule (m)", ["module"])])

    def test_what_loading_makes_is_blamed_on_the_importing_module_at_the_end(self):
        where = support.scratch_dir(self)
        with open(os.path.join(where, "loaded_helper.py"), "w") as handle:
            handle.write("import os, tempfile\n"
                         "fd, PATH = tempfile.mkstemp(prefix='import')\nos.close(fd)\n")
        sys.path.insert(0, where)
        self.addCleanup(sys.path.remove, where)
        self.addCleanup(sys.modules.pop, "loaded_helper", None)
        self.scopes.begin_loading()
        import loaded_helper
        self.scopes.end_loading()
        self.assertTrue(os.path.exists(loaded_helper.PATH))  # tests may use it
        ((record, leaks),) = self.scopes.close_all()
        blamed = "loaded_helper" if origins.AVAILABLE and self.run.origins else "the tests"
        self.assertEqual((record.id, self.names(leaks), leaks[0].judged),
                         ("import (%s)" % blamed, ["import"], "run"))


if __name__ == "__main__":
    unittest.main()
