"""Drop-in means the same outcomes: entries an owner still uses are never judged too early.

Each suite in tests/examples/owners hands temp files to an owner that removes
them later (a class or module teardown or cleanup, a later test, a run()
wrapper, atexit, a finalizer, multiprocessing, a fixture's own temp dir, the
cwd). Under the runner it must give unittest's outcomes, report no leak and
leave nothing; with EXAMPLE_FORGET=1 the owner forgets, and the leak is
reported, attributed to whoever made it.
"""

import os
import re
import sys
import tempfile
import unittest

from tests import support

OWNERS = os.path.join(support.EXAMPLES, "owners")

# Module: (oldest Python that has the pattern, {(owner id, judged) the forgetful run reports}).
PATTERNS = {
    "example_class_teardown": ((3, 6), {
        ("example_class_teardown.HandsToTearDownClass.test_1_makes", "class")}),
    "example_module_teardown": ((3, 6), {("example_module_teardown.A.test_makes", "module")}),
    "example_class_cleanup": ((3, 8), {
        ("example_class_cleanup.HandsToClassCleanup.test_makes", "class")}),
    "example_module_cleanup": ((3, 8), {("example_module_cleanup.A.test_makes", "module")}),
    "example_later_test": ((3, 6), {("example_later_test.LaterTestOwns.test_1_makes", "class")}),
    "example_run_wrapper": ((3, 6), {("example_run_wrapper.Wrapped.test_b", "class"),
                                     ("example_run_wrapper.Wrapped.test_c", "class"),
                                     ("setUpModule (example_run_wrapper)", "module")}),
    "example_atexit": ((3, 6), {("example_atexit.HandsToAtexit.test_by_argument", "exit"),
                                ("example_atexit.HandsToAtexit.test_by_closure", "exit")}),
    "example_tempdir_until_exit": ((3, 6), {
        ("example_tempdir_until_exit.KeepsItUntilExit.test_1_makes", "class")}),
    "example_named_file_until_exit": ((3, 6), {
        ("example_named_file_until_exit.KeepsItUntilExit.test_1_makes", "class")}),
    "example_multiprocessing": ((3, 6), {
        ("example_multiprocessing.MultiprocessingTempDir.test_1_listener", "class")}),
    "example_cwd": ((3, 6), {("example_cwd.StaysInATempDir.test_1_moves_in", "module")}),
    "example_class_tempdir": ((3, 6), {("setUpClass (example_class_tempdir.OwnTempDir)",
                                        "class")}),
}


def private_tmpdir(test, length=None):
    """A fresh TMPDIR of the run's own; with *length*, a path of exactly that many characters."""
    path = tempfile.mkdtemp(prefix="owners-", dir=support.real_tempdir())
    test.addCleanup(support._remove, path)
    if length is not None:
        path = os.path.join(path, "d" * (length - len(path) - 1))
        os.mkdir(path, 0o700)
    return path


class OwnersTest(unittest.TestCase):

    def run_module(self, module, runner, *args, env=None, tmpdir=None):
        tmpdir = tmpdir or private_tmpdir(self)
        report = os.path.join(private_tmpdir(self), "report.json")
        tempguard_args = ["--leaks", "fail", "--report", report] if runner != "unittest" else []
        completed = support.run_python(
            ["-m", runner, "-v", module] + tempguard_args + list(args), cwd=OWNERS,
            env=dict({"TMPDIR": tmpdir, "PYTHONPATH": os.pathsep.join([support.PROJECT, OWNERS])},
                     **(env or {})))
        self.assertEqual(os.listdir(tmpdir), [], completed.stderr)
        return completed, (support.load_json(report) if runner != "unittest" else None)

    def check_each_pattern(self, check):
        for module, (oldest, forgotten) in sorted(PATTERNS.items()):
            with self.subTest(module=module):
                if sys.version_info < oldest:
                    self.skipTest("Python %d.%d has no such owner" % oldest)
                check(module, forgotten)

    def test_owners_keep_their_files_and_outcomes_match_unittest(self):
        def check(module, _forgotten):
            theirs, _ = self.run_module(module, "unittest")
            ours, report = self.run_module(module, "tempguard.runner")
            self.assertEqual(theirs.returncode, 0, theirs.stderr)
            self.assertEqual(ours.returncode, theirs.returncode, ours.stderr)
            self.assertEqual(support.unittest_part(ours.stderr),
                             support.unittest_part(theirs.stderr))
            self.assertEqual(report["totals"]["leaked"], 0, ours.stderr)
            self.assertIn("0 leaked", ours.stderr)
        self.check_each_pattern(check)

    def test_a_forgetful_owner_still_shows_the_leak_of_whoever_made_it(self):
        def check(module, forgotten):
            completed, report = self.run_module(module, "tempguard.runner", "--leaks", "warn",
                                                env={"EXAMPLE_FORGET": "1"})
            self.assertEqual(completed.returncode, 0, completed.stderr)
            leaks = {(leak["owner"], leak["judged"])
                     for entry in report["tests"] + report["fixtures"] for leak in entry["leaks"]}
            self.assertEqual(leaks, forgotten, completed.stderr)
        self.check_each_pattern(check)

    def test_in_fail_mode_a_leak_judged_after_exit_fails_its_test_in_the_summary(self):
        completed, report = self.run_module("example_atexit", "tempguard.runner",
                                            env={"EXAMPLE_FORGET": "1"})
        self.assertEqual(completed.returncode, 1, completed.stderr)
        summary = completed.stderr.split("\ntempguard: ", 1)[0]
        self.assertIn("FAILED (failures=2)", summary)
        for test in ("test_by_argument", "test_by_closure"):
            self.assertIn("FAIL: example_atexit.HandsToAtexit.%s\n" % test, summary)
        self.assertIn("(confirmed after the interpreter exited)", summary)
        # The supervisor prints unittest's closing lines with the test process's run time.
        seconds = float(re.search(r"\nRan 3 tests in ([0-9.]+)s\n", summary).group(1))
        self.assertTrue(0.3 <= seconds < 60, summary)
        outcomes = {entry["id"].rsplit(".", 1)[1]: entry["outcome"] for entry in report["tests"]}
        self.assertEqual(outcomes, {"test_2_after": "passed", "test_by_argument": "failed",
                                    "test_by_closure": "failed"})
        self.assertEqual((report["totals"]["passed"], report["totals"]["failed"]), (1, 2))

    def test_a_forkserver_pool_and_a_manager_work_under_a_60_character_tmpdir(self):
        tmpdir = private_tmpdir(self, length=60)
        self.assertEqual(len(tmpdir), 60)
        completed, report = self.run_module("example_multiprocessing", "tempguard.runner",
                                            tmpdir=tmpdir)
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertEqual(report["totals"]["passed"], 4)
        self.assertEqual(report["totals"]["leaked"], 0)


if __name__ == "__main__":
    unittest.main()
