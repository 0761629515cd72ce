"""Where people already are: unittest.main, pytest, pytest-xdist, Django, as real subprocesses."""

import os
import re
import tempfile
import unittest

from tempguard import sandbox
from tests import support

INTEGRATIONS = os.path.join(support.EXAMPLES, "integrations")


class IntegrationTestCase(unittest.TestCase):

    def run_here(self, *args, env=None):
        scratch = tempfile.mkdtemp(prefix="scratch-")
        self.addCleanup(support._remove, scratch)
        completed = support.run_python(list(args), cwd=INTEGRATIONS,
                                       env=dict({"TMPDIR": scratch, "PYTHONWARNINGS": "default"},
                                                **(env or {})))
        return completed, scratch


class UnittestMainTest(IntegrationTestCase):

    def test_unittest_main_with_test_runner(self):
        for extra in ([], ["--module-none"]):
            with self.subTest(extra=extra):
                completed, scratch = self.run_here("example_main.py", *extra)
                self.assertEqual(completed.returncode, 0, completed.stderr)
                self.assertIn("Ran 3 tests", completed.stderr)
                self.assertIn(".main-leak", completed.stderr)
                self.assertRegex(completed.stderr,
                                 r"tempguard: 1 leaked .*; helpers made 1 entries .* and removed 1 ")
                self.assertNotIn(".main-atexit", completed.stderr)
                self.assertEqual(os.listdir(scratch), [])

    def test_in_process_runner_judges_what_waits_for_exit_at_exit(self):
        files = tempfile.mkdtemp(prefix="files-")
        self.addCleanup(support._remove, files)
        summary = os.path.join(files, "summary.md")
        open(summary, "w").close()
        completed, scratch = self.run_here("example_main.py", env={
            "EXAMPLE_FORGET": "1", "GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": summary})
        self.assertEqual(completed.returncode, 0, completed.stderr)
        late = completed.stderr.split("judged at interpreter exit)", 1)
        self.assertEqual(len(late), 2, completed.stderr)
        self.assertIn("__main__.HandsToAtexit.test_hands_over\n  dir ", late[1])
        self.assertIn(".main-atexit", late[1])
        self.assertEqual(os.listdir(scratch), [])
        # The step summary is appended to: what exit judged comes after, alone.
        with open(summary) as handle:
            blocks = handle.read().split("### ")[1:]
        self.assertEqual([block.splitlines()[0] for block in blocks], [
            "tempguard: 1 new leaked temporary entry",
            "tempguard: 1 new leaked temporary entry, judged at interpreter exit"])
        self.assertIn("test\\_leak", blocks[0])
        self.assertNotIn("test\\_leak", blocks[1])
        self.assertIn("HandsToAtexit", blocks[1])

    def test_in_process_runner_waits_for_multiprocessing_whatever_the_import_order(self):
        owners = os.path.join(support.EXAMPLES, "owners")
        # multiprocessing.util registers its exit handler when imported: before
        # tempguard's, it runs after it, so the run root is left for the next run.
        for imports in ("multiprocessing.util, unittest, tempguard",
                        "tempguard, multiprocessing, unittest"):
            with self.subTest(imports=imports):
                scratch = tempfile.mkdtemp(prefix="scratch-")
                self.addCleanup(support._remove, scratch)
                completed = support.run_python(
                    ["-c", "import %s; unittest.main(module=None, argv=['x', "
                           "'example_multiprocessing'], testRunner=tempguard.TempGuardRunner)"
                     % imports], cwd=owners,
                    env={"TMPDIR": scratch, "PYTHONPATH": support.PROJECT + os.pathsep + owners})
                self.assertEqual(completed.returncode, 0, completed.stderr)
                self.assertNotIn("Traceback", completed.stderr)
                self.assertIn(" 0 leaked", completed.stderr)
                left = [sandbox.read_run_root(os.path.join(scratch, name)).state
                        for name in os.listdir(scratch)]
                self.assertIn(left, ([], ["finished"]) if "util" in imports else ([],))
                support.run_python(["-m", "tempguard.runner", "example_class_teardown"],
                                   cwd=owners, env={"TMPDIR": scratch, "PYTHONPATH": os.pathsep
                                                    .join([support.PROJECT, owners])})
                self.assertEqual(os.listdir(scratch), [])


class ForeignResultTest(IntegrationTestCase):

    def test_a_result_class_of_the_callers_own_is_guarded_through(self):
        completed, scratch = self.run_here("example_foreign_result.py")
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertEqual(completed.stdout.strip(),
                         "TempGuardedCounting ['mine __main__.Leaky.test_leaks']")
        self.assertIn("__main__.Leaky.test_leaks\n  file ", completed.stderr)
        self.assertIn(".foreign-leak", completed.stderr)
        self.assertEqual(os.listdir(scratch), [])


class PytestTest(IntegrationTestCase):

    def setUp(self):
        support.require("pytest")

    def pytest(self, *args):
        return self.run_here(*(support.PYTEST + ["-q", "example_pytest_mixin.py"] + list(args)))

    def test_mixin_under_pytest_cleans_warns_and_fails(self):
        completed, scratch = self.pytest("-s")
        out = completed.stdout
        self.assertEqual(completed.returncode, 1, out + completed.stderr)
        self.assertRegex(out, r"1 failed, 3 passed, 1 warning")
        self.assertIn("TempLeakWarning", out)
        self.assertIn(".pytest-warn", out)
        self.assertIn("left 1 temporary entry behind", out)
        made = re.search(r"MADE (\S+)", out).group(1)
        self.assertFalse(os.path.exists(made))
        self.assertEqual(os.listdir(scratch), [])

    def test_xdist_workers_each_have_a_sandbox_and_match_the_serial_run(self):
        support.require("xdist")
        serial, _ = self.pytest()
        parallel, scratch = self.pytest("-n", "2")
        summary = re.compile(r"\d+ failed, \d+ passed")
        self.assertEqual(summary.search(parallel.stdout).group(0),
                         summary.search(serial.stdout).group(0), parallel.stdout)
        self.assertEqual(parallel.returncode, 1)
        # xdist makes pytest's own basetemp; nothing of tempguard's may remain.
        self.assertEqual([name for name in os.listdir(scratch)
                          if not name.startswith("pytest-of-")], [])


class DjangoTest(IntegrationTestCase):

    def test_discover_runner_with_tempguard_runner(self):
        support.require("django")
        completed, scratch = self.run_here("example_django.py")
        err = completed.stderr
        self.assertEqual(completed.returncode, 0, err)
        self.assertIn("Ran 2 tests", err)
        self.assertIn("example_django.Models.test_leaks_an_export", err)
        self.assertIn(".django-export", err)
        self.assertRegex(err, r"tempguard: 1 leaked .*; helpers made 2 entries .* and removed 2 ")
        self.assertEqual(os.listdir(scratch), [])


if __name__ == "__main__":
    unittest.main()
