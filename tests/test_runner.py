"""python -m tempguard.runner end to end: real suites in real subprocesses."""

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import unittest

from tempguard import origins, sandbox
from tests import support


scratch_dir = support.scratch_dir
run_runner = support.run_runner
_unittest_part = support.unittest_part


def by_id(report):
    return {entry["id"]: entry for entry in report["tests"] + report["fixtures"]}


class LeakDetectionTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.scratch = tempfile.mkdtemp(prefix="scratch-")
        cls.report_path = os.path.join(cls.scratch, "report.json")
        # Without audit hooks the planted outside leak is one only in strict mode.
        strict = [] if origins.AVAILABLE else ["--outside", "strict"]
        cls.completed = support.run_python(
            ["-m", "tempguard.runner", "discover", "-p", "example_*.py",
             "--report", cls.report_path] + strict,
            cwd=os.path.join(support.EXAMPLES, "leaky"),
            env={"TMPDIR": cls.scratch, "EXAMPLE_OUTSIDE": os.path.join(cls.scratch, "hard-coded")})
        cls.report = support.load_json(cls.report_path)
        cls.entries = by_id(cls.report)

    @classmethod
    def tearDownClass(cls):
        support._remove(cls.scratch)

    def leaks_of(self, test_id):
        return [(leak["where"], leak["kind"], os.path.basename(leak["path"]))
                for leak in self.entries["example_leaks." + test_id]["leaks"]]

    def test_each_typical_leak_is_attributed_to_its_test(self):
        expected = {"Leaks.test_mkstemp": ("sandbox", "file", ".mkstemp"),
                    "Leaks.test_named_temporary_file_delete_false": ("sandbox", "file", ".ntf"),
                    "Leaks.test_mkdtemp": ("sandbox", "dir", ".mkdtemp"),
                    "Leaks.test_thread": ("sandbox", "file", ".thread"),
                    "Leaks.test_subprocess": ("sandbox", "file", "from-subprocess"),
                    "Leaks.test_hard_coded_outside": ("outside", "file", "hard-coded")}
        for test_id, (where, kind, ending) in expected.items():
            with self.subTest(test_id):
                leaks = self.leaks_of(test_id)
                self.assertEqual(len(leaks), 1, leaks)
                self.assertEqual(leaks[0][:2], (where, kind))
                self.assertTrue(leaks[0][2].endswith(ending), leaks)

    def test_a_leak_in_a_subtest_is_named_with_its_parameters(self):
        leaks = self.entries["example_leaks.SubTests.test_leaks_in_one"]["leaks"]
        self.assertEqual([(leak["owner"], os.path.basename(leak["path"])[-8:]) for leak in leaks],
                         [("example_leaks.SubTests.test_leaks_in_one (number=1)", ".subtest")])
        self.assertIn("example_leaks.SubTests.test_leaks_in_one (number=1)\n  file ",
                      self.completed.stderr)

    def test_set_up_class_leak_is_attributed_to_the_fixture(self):
        fixture = self.entries["setUpClass (example_leaks.FixtureLeak)"]
        self.assertEqual([os.path.basename(leak["path"])[-11:] for leak in fixture["leaks"]],
                         [".setupclass"])
        self.assertEqual(self.leaks_of("FixtureLeak.test_uses_fixture"), [])

    def test_no_false_leaks(self):
        for test_id in ("NoFalseLeaks.test_temporary_directory",
                        "NoFalseLeaks.test_finalizer_deletes_file",
                        "NoFalseLeaks.test_cleans_up_itself", "NoFalseLeaks.test_tracked",
                        "FixtureClean.test_one", "FixtureClean.test_two"):
            with self.subTest(test_id):
                self.assertEqual(self.leaks_of(test_id), [])
        self.assertEqual(self.entries["setUpClass (example_leaks.FixtureClean)"]["leaks"], [])
        self.assertEqual(self.entries["setUpClass (example_leaks.FixtureClean)"]["cleaned"], 1)

    def test_outside_leak_is_reported_never_deleted(self):
        self.assertTrue(os.path.exists(os.path.join(self.scratch, "hard-coded")))
        self.assertIn("may belong to another process", self.completed.stderr)

    def test_failed_test_keeps_its_files_and_the_report_prints_where(self):
        entry = self.entries["example_leaks.Failing.test_fails_and_keeps_its_files"]
        self.assertEqual(entry["outcome"], "failed")
        kept = entry["kept"]
        self.assertTrue(kept.startswith(self.scratch))
        names = sorted(os.listdir(kept))
        self.assertEqual(len(names), 2, names)
        self.assertTrue(any(name.endswith(".evidence") for name in names))
        self.assertTrue(any(name.endswith(".untracked-evidence") for name in names))
        self.assertIn("tempguard kept this test's temporary files in: " + kept,
                      self.completed.stderr)

    def test_nothing_of_the_sandbox_remains_but_what_was_kept(self):
        roots = [name for name in os.listdir(self.scratch) if sandbox.is_run_root_name(name)]
        self.assertEqual(len(roots), 1)
        root = os.path.join(self.scratch, roots[0])
        self.assertEqual(sorted(os.listdir(root)), ["kept", "tempguard-run.json"])
        self.assertEqual(sorted(os.listdir(self.scratch)),
                         sorted(["hard-coded", "report.json", roots[0]]))

    def test_json_report_has_the_documented_shape(self):
        self.assertEqual(self.report["version"], 2)
        for entry in self.report["tests"]:
            self.assertEqual(set(entry), {"id", "outcome", "created", "cleaned", "bytes",
                                          "leaks", "unattributed", "kept", "not_kept",
                                          "cleanup_errors", "notes", "cleanup_seconds",
                                          "failure"})
            for leak in entry["leaks"]:
                self.assertEqual(set(leak), {"path", "kind", "where", "judged", "owner", "origin",
                                             "known"})
                self.assertIn(leak["judged"], ("test", "class", "module", "run", "exit"))
        totals = self.report["totals"]
        self.assertEqual((totals["tests"], totals["passed"], totals["failed"]), (15, 14, 1))
        # The failing test's untracked file is kept (copied) and still a leak.
        self.assertEqual((totals["leaked"], totals["leaked_dirs"], totals["kept"]), (9, 1, 1))
        self.assertEqual(self.completed.returncode, 1)

    def test_text_section_follows_unittests_summary(self):
        err = self.completed.stderr
        self.assertLess(err.index("FAILED (failures=1)"), err.index("tempguard: leaked"))
        self.assertRegex(err, r"tempguard: 9 leaked \(8 files, 1 dir\); helpers made 5 entries "
                              r"\(\d+ B\) and removed 4 in ")
        # What became of them, said once: removed, a failed test's copied first.
        self.assertIn("(where they are now)\n  those in the tests' temp dir were removed at the "
                      "end of the run; a failed test's were copied first", err)


class SkipCountTest(unittest.TestCase):

    def test_report_totals_equal_unittests_counts_for_every_kind_of_skip(self):
        report = os.path.join(scratch_dir(self), "r.json")
        ours, _ = run_runner(self, "skips", "example_skips", "--report", report)
        theirs, _ = run_runner(self, "skips", "example_skips", runner="unittest")
        self.assertEqual(_unittest_part(ours.stderr), _unittest_part(theirs.stderr))
        ran = int(re.search(r"Ran (\d+) tests?", theirs.stderr).group(1))
        skipped = int(re.search(r"skipped=(\d+)", theirs.stderr).group(1))
        # 2 subTests, a decorated test, a test, a class of 2 and a setUpClass skip.
        self.assertEqual(skipped, 7)
        totals = support.load_json(report)["totals"]
        self.assertEqual((totals["tests"], totals["skipped"]), (ran, skipped))
        ids = [entry["id"] for entry in support.load_json(report)["tests"]]
        self.assertIn("example_skips.Runs.test_decorated", ids)
        self.assertIn("example_skips.SkippedClass.test_two", ids)


class ModuleFixtureTest(unittest.TestCase):

    def test_set_up_module_files_live_until_tear_down_module_and_leaks_are_its_own(self):
        report = os.path.join(scratch_dir(self), "r.json")
        completed, _ = run_runner(self, "modulefixture", "example_module_fixture",
                                  "--report", report)
        self.assertEqual(completed.returncode, 0, completed.stderr)
        printed = dict(line.split(" ", 1) for line in completed.stdout.splitlines())
        self.assertEqual(printed["AT_TEARDOWN"], "True")
        self.assertFalse(os.path.exists(printed["TRACKED"]))
        entries = by_id(support.load_json(report))
        fixture = entries["setUpModule (example_module_fixture)"]
        self.assertEqual([os.path.basename(leak["path"])[-12:] for leak in fixture["leaks"]],
                         [".setupmodule"])
        self.assertEqual(fixture["cleaned"], 1)
        self.assertTrue(all(not entry["leaks"] for entry in support.load_json(report)["tests"]))


class TestLoadingTest(unittest.TestCase):

    def test_what_the_import_of_a_test_module_makes_is_its_leak(self):
        """Made before the first test, in the real temp dir, it was neither reported nor
        removed (reportlab's suite makes $TMPDIR/reportlab_test at import)."""
        plain, plain_tmp = run_runner(self, "loading", "example_loading", runner="unittest")
        self.assertEqual(plain.returncode, 0, plain.stderr)
        self.assertEqual(sorted(os.listdir(plain_tmp)), ["made_at_import", "written_at_import"])
        report = os.path.join(scratch_dir(self), "r.json")
        completed, tmp = run_runner(self, "loading", "example_loading", "--report", report)
        self.assertEqual((completed.returncode, _unittest_part(completed.stderr)),
                         (0, _unittest_part(plain.stderr)))
        importer = "import (example_loading)" if origins.AVAILABLE else "import (the tests)"
        entries = by_id(support.load_json(report))
        self.assertEqual(sorted((os.path.basename(leak["path"]), leak["kind"], leak["judged"])
                                for leak in entries[importer]["leaks"]),
                         [("made_at_import", "dir", "run"), ("written_at_import", "file", "run")],
                         completed.stderr)
        self.assertEqual(os.listdir(tmp), [])
        failing, _ = run_runner(self, "loading", "example_loading", "--leaks", "fail")
        self.assertEqual(failing.returncode, 1, failing.stderr)
        self.assertIn("FAIL: %s\n" % importer, failing.stderr)


class PoliciesTest(unittest.TestCase):

    def test_fail_mode_fails_leaking_tests_and_fixtures(self):
        completed, _ = run_runner(self, "leaky", "discover", "-p", "example_*.py",
                                  "--leaks", "fail", "--keep", "none")
        err = completed.stderr
        self.assertEqual(completed.returncode, 1)
        self.assertIn("FAILED (failures=9)", err)
        self.assertIn("tempguard: example_leaks.SubTests.test_leaks_in_one (number=1) left 1 "
                      "temporary entry behind", err)
        self.assertIn("FAIL: setUpClass (example_leaks.FixtureLeak)", err)
        # Later tests of its class could still remove it: judged when the class ends.
        self.assertRegex(err, r"FAIL: example_leaks.Leaks.test_mkstemp\n(.*\n)*.*left 1 "
                              r"temporary entry behind \(confirmed at the end of its class\)")

    def test_a_bad_class_policy_is_a_usage_error_before_any_test_runs(self):
        """A plain TestCase's tempguard_leaks = "loud" was taken as warn, silently, and
        overrode --leaks fail: exit 0."""
        completed, scratch = run_runner(self, "policies", "example_bad_class_policy",
                                        "--leaks", "fail")
        self.assertEqual(completed.returncode, 2, completed.stderr)
        self.assertEqual(completed.stderr.strip(), "tempguard: error: example_bad_class_policy."
                         "Loud.tempguard_leaks must be one of ignore, warn, fail, not 'loud'")
        self.assertEqual(os.listdir(scratch), [])

    def test_environment_sets_policy_the_option_and_a_class_attribute_win(self):
        completed, _ = run_runner(self, "leaky", "example_leaks.Leaks.test_mkstemp",
                                  env={"TEMPGUARD_LEAKS": "fail"})
        self.assertEqual(completed.returncode, 1, completed.stderr)
        completed, _ = run_runner(self, "leaky", "example_leaks.Leaks.test_mkstemp",
                                  "--leaks", "ignore", env={"TEMPGUARD_LEAKS": "fail"})
        self.assertEqual(completed.returncode, 0, completed.stderr)
        # The class's tempguard_leaks = "warn" wins over both; its neighbour still fails.
        completed, _ = run_runner(self, "policies", "example_class_policy", "--leaks", "fail",
                                  env={"TEMPGUARD_LEAKS": "fail"})
        self.assertEqual(completed.returncode, 1, completed.stderr)
        summary = completed.stderr.split("\ntempguard: ", 1)[0]
        self.assertIn("FAIL: test_mkstemp (example_class_policy.Strict", summary)
        self.assertNotIn("example_class_policy.Tolerated", summary)
        self.assertIn("FAILED (failures=1)", summary)
        self.assertRegex(completed.stderr, r"example_class_policy\.Tolerated\.test_mkstemp"
                                           r"(.*\n)*.*\.tolerated")

    def test_keep_none_and_all(self):
        _, scratch = run_runner(self, "leaky", "example_leaks.Failing", "--keep", "none")
        self.assertEqual([n for n in os.listdir(scratch) if sandbox.is_run_root_name(n)], [])
        report = os.path.join(tempfile.mkdtemp(), "r.json")
        self.addCleanup(support._remove, os.path.dirname(report))
        run_runner(self, "leaky", "example_leaks.NoFalseLeaks.test_tracked", "--keep", "all",
                   "--report", report)
        kept = support.load_json(report)["tests"][0]["kept"]
        self.assertEqual(len(os.listdir(kept)), 1)

    def test_watched_directory_leaks_are_outside_leaks(self):
        watched = scratch_dir(self)
        completed, _ = run_runner(self, "leaky", "example_leaks.Leaks.test_hard_coded_outside",
                                  "--watch", watched,
                                  env={"EXAMPLE_OUTSIDE": os.path.join(watched, "w")})
        self.assertIn("file %s  (outside the tests' temp dir: left in place"
                      % os.path.join(watched, "w"), completed.stderr)

    def test_old_runs_are_pruned_and_live_ones_never(self):
        scratch = scratch_dir(self)
        support.make_run_root(scratch, "live")
        support.make_run_root(scratch, "orphan", pid=support.dead_pid())
        for _ in range(3):
            support.run_python(["-m", "tempguard.runner", "example_leaks.Failing",
                                "--keep-runs", "2"],
                               cwd=os.path.join(support.EXAMPLES, "leaky"),
                               env={"TMPDIR": scratch})
        roots = sorted(n for n in os.listdir(scratch) if sandbox.is_run_root_name(n))
        self.assertIn("tempguard-run-live", roots)
        self.assertNotIn("tempguard-run-orphan", roots)
        self.assertEqual(len(roots), 3, roots)


class DropInTest(unittest.TestCase):
    """Same counts, outcomes, lines and exit codes as python -m unittest."""

    def test_outcomes_lines_and_exit_code_match_unittest(self):
        for args in (["discover", "-p", "example_*.py"], ["-v", "example_clean"],
                     ["-q", "example_clean.Outcomes.test_pass"], ["-f", "example_clean"]):
            with self.subTest(args=args):
                ours, _ = run_runner(self, "clean", *args)
                theirs, _ = run_runner(self, "clean", *args, runner="unittest")
                self.assertEqual(ours.returncode, theirs.returncode)
                self.assertEqual(_unittest_part(ours.stderr), _unittest_part(theirs.stderr))

    def test_an_error_of_unittest_s_own_is_printed_as_unittest_prints_it(self):
        """A start directory that is not importable: a traceback through tempguard's
        runner.py and program.py, twice unittest's, that looked like a tempguard crash."""
        ours, scratch = run_runner(self, "clean", "discover", "-s", "not-there")
        theirs, _ = run_runner(self, "clean", "discover", "-s", "not-there", runner="unittest")
        self.assertEqual((ours.returncode, _unittest_part(ours.stderr)),
                         (theirs.returncode, _unittest_part(theirs.stderr)))
        self.assertIn("ImportError: Start directory is not importable: 'not-there'", ours.stderr)
        self.assertNotIn("tempguard" + os.sep, ours.stderr)
        self.assertEqual(os.listdir(scratch), [])

    def test_a_suite_of_hundreds_with_fixtures_and_buffering_matches_unittest(self):
        for args in (["discover", "-b", "-p", "example_*.py"],
                     ["discover", "-v", "-p", "example_*.py"]):
            with self.subTest(args=args):
                ours, scratch = run_runner(self, "large", *args)
                theirs, _ = run_runner(self, "large", *args, runner="unittest")
                self.assertEqual(ours.returncode, theirs.returncode)
                # 300 tests; Python 3.12 and later leave skipped ones out of the count.
                self.assertGreaterEqual(int(re.search(r"Ran (\d+) tests", ours.stderr).group(1)),
                                        280, ours.stderr[-500:])
                self.assertIn("Stdout:" if "-b" in args else "... skipped", ours.stderr)
                self.assertEqual(_unittest_part(ours.stderr), _unittest_part(theirs.stderr))
                self.assertEqual(os.listdir(scratch), [])

    def test_judging_forces_no_collection_so_finalizers_print_where_they_would(self):
        """A collection forced to judge the earlier test's leak finalized a file lost in
        a cycle then: its ResourceWarning came before the later test's line, from
        tempguard's own source line."""
        for runner in ("unittest", "tempguard.runner"):
            completed, _ = run_runner(self, "gcmoment", "-v", "example_gc_moment",
                                      runner=runner)
            self.assertEqual(completed.returncode, 0, completed.stderr)
            self.assertRegex(completed.stderr, r"\ntest_collects \(example_gc_moment\.Later"
                             r"[^\n]*\) \.\.\. \S*example_gc_moment\.py:\d+: ResourceWarning: "
                             r"unclosed file", runner)
            # No line of tempguard's own (the project's path may hold the word: an sdist's).
            self.assertNotIn(support.PACKAGE + os.sep,
                             completed.stderr.split("\ntempguard: ", 1)[0])

    def test_no_tests_exit_code_matches_unittest(self):
        ours, _ = run_runner(self, "clean", "discover", "-p", "nothing_*.py")
        theirs, _ = run_runner(self, "clean", "discover", "-p", "nothing_*.py", runner="unittest")
        self.assertEqual(ours.returncode, theirs.returncode)

    def test_help_names_our_program_and_options(self):
        completed = support.run_python(["-m", "tempguard.runner", "--help"])
        self.assertEqual(completed.returncode, 0)
        self.assertIn("usage: python -m tempguard.runner", completed.stdout)
        for option in ("--leaks", "--keep", "--keep-runs", "--report", "--watch", "-f"):
            self.assertIn(option, completed.stdout)

    def test_a_misspelled_variable_is_named_with_the_nearest_known_one(self):
        completed, scratch = run_runner(self, "clean", env={"TEMPGUARD_LEAK": "fail"})
        self.assertEqual(completed.returncode, 2, completed.stderr)
        self.assertIn("TEMPGUARD_LEAK is not a tempguard setting; did you mean "
                      "TEMPGUARD_LEAKS?", completed.stderr)
        self.assertEqual(os.listdir(scratch), [])

    def test_bad_values_are_usage_errors_that_create_nothing(self):
        for args, env in ((["--leaks", "bogus"], {}), (["--keep", "x"], {}),
                          (["--keep-runs", "-1"], {}), (["--watch", "/nonexistent/dir"], {}),
                          ([], {"TEMPGUARD_LEAKS": "bogus"}), ([], {"TEMPGUARD_KEEP_RUNS": "x"}),
                          ([], {"TEMPGUARD_LEAK": "fail"})):
            with self.subTest(args=args, env=env):
                completed, scratch = run_runner(self, "clean", *args, env=env)
                self.assertEqual(completed.returncode, 2, completed.stderr)
                self.assertIn("error", completed.stderr)
                self.assertEqual(os.listdir(scratch), [])


class InterruptTest(unittest.TestCase):

    def interrupt(self, signum, *args):
        scratch = scratch_dir(self)
        child = subprocess.Popen(
            [sys.executable, "-m", "tempguard.runner", "example_slow"] + list(args),
            cwd=os.path.join(support.EXAMPLES, "slow"), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, universal_newlines=True,
            env=dict(os.environ, TMPDIR=scratch, PYTHONPATH=support.PROJECT),
            # A shell's background job inherits SIGINT ignored; a terminal's Ctrl-C does not.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        self.assertEqual(child.stdout.readline().strip(), "SLEEPING")
        self.assertEqual(len(os.listdir(scratch)), 1)
        if callable(signum):
            signum(child)
        else:
            child.send_signal(signum)
        _, err = child.communicate(timeout=60)
        self.scratch = scratch
        return child.returncode, err, os.listdir(scratch)

    def test_ctrl_c_cleans_up(self):
        code, err, left = self.interrupt(signal.SIGINT)
        self.assertNotEqual(code, 0)
        self.assertIn("KeyboardInterrupt", err)
        self.assertEqual(left, [])

    def test_ctrl_c_with_catch_break_finishes_the_test_and_cleans_up(self):
        code, err, left = self.interrupt(signal.SIGINT, "-c")
        self.assertIn("Ran 1 test", err)
        self.assertEqual(left, [])

    def test_sigterm_kills_the_tests_as_in_unittest_and_the_supervisor_cleans_up(self):
        """The test process keeps SIGTERM's default: it dies of it, as under unittest, and
        the runner too, once the supervisor has listed and removed what it left."""
        code, err, left = self.interrupt(signal.SIGTERM)
        self.assertEqual(code, -signal.SIGTERM)
        self.assertIn("the test process was killed by signal %d without handing its records "
                      "over" % signal.SIGTERM, err)
        self.assertIn("1 entry was left in the sandbox that the test process never judged: "
                      "listed as leaks of the run; 1 removed", err)
        self.assertEqual(left, [])

    def test_sighups_until_the_end_are_passed_on_and_the_supervisor_cleans_up(self):
        """A closed terminal or a CI runner's hang-up, sent again and again while the
        supervisor judges: the test process dies of it as under unittest, and the run's
        end is reported and cleaned all the same."""
        def hang_up_until_it_ends(child):
            while child.poll() is None:
                child.send_signal(signal.SIGHUP)
                time.sleep(0.002)
        code, err, left = self.interrupt(hang_up_until_it_ends)
        self.assertEqual(code, -signal.SIGHUP, err)
        self.assertIn("the test process was killed by signal %d without handing its records "
                      "over" % signal.SIGHUP, err)
        self.assertIn("tempguard: ", err)
        self.assertEqual(left, [])

    def test_sigkill_leaves_an_orphan_that_the_next_run_removes(self):
        code, _err, left = self.interrupt(signal.SIGKILL)
        self.assertEqual(code, -signal.SIGKILL)
        self.assertEqual(len(left), 1)
        self.assertTrue(sandbox.is_run_root_name(left[0]))
        support.run_python(["-m", "tempguard.runner", "example_clean.Outcomes.test_pass"],
                           cwd=os.path.join(support.EXAMPLES, "clean"),
                           env={"TMPDIR": self.scratch})
        self.assertEqual(os.listdir(self.scratch), [])


if __name__ == "__main__":
    unittest.main()
