"""A child process's temp files belong to whoever started it (tests/examples/children).

Each example child writes its files while later tests run, after its starter
ended; the report must blame the starter, never the test running then, and
the outcomes must be unittest's.
"""

import os
import signal
import unittest

from tests import support

CHILDREN = os.path.join(support.EXAMPLES, "children")

# Leak owner: (how many, what kind, the prefix its names start with).
EXPECTED = {
    "example_children.TestStarts.test_1_starts": (3, "file", "late"),
    "setUpClass (example_children.ServerClass)": (2, "file", "server"),
    "example_children.Grandchild.test_1_starts": (1, "file", "grand"),
    "example_children.OwnTmpdir.test_1_starts": (1, "dir", "own-own"),
    "setUpModule (example_children_module)": (2, "file", "module"),
}


class ChildrenTest(unittest.TestCase):

    def run_examples(self, runner, *modules):
        scratch = support.scratch_dir(self)
        control = os.path.join(scratch, "control")
        tmpdir = os.path.join(scratch, "tmp")
        os.mkdir(control)
        os.mkdir(tmpdir)
        report = os.path.join(scratch, "report.json")
        args = ["--report", report] if runner != "unittest" else []
        completed = support.run_python(["-m", runner, "-v"] + list(modules) + args, cwd=CHILDREN,
                                       env={"TMPDIR": tmpdir, "EXAMPLE_CONTROL": control,
                                            "PYTHONPATH": support.PROJECT})
        return completed, (support.load_json(report) if args else None), tmpdir

    def test_each_leak_is_blamed_on_the_test_or_fixture_that_started_the_child(self):
        completed, report, tmpdir = self.run_examples(
            "tempguard.runner", "example_children", "example_children_module")
        self.assertEqual(completed.returncode, 0, completed.stderr)
        found = {}
        for entry in report["tests"] + report["fixtures"]:
            for leak in entry["leaks"]:
                self.assertEqual(leak["owner"], entry["id"])
                self.assertEqual(leak["origin"]["started_by"], entry["id"])
                self.assertTrue(leak["origin"]["after_end"], leak)
                self.assertEqual(leak["judged"], "child")
                found.setdefault(entry["id"], []).append(leak)
        self.assertEqual(sorted(found), sorted(EXPECTED), completed.stderr)
        for owner, (count, kind, prefix) in EXPECTED.items():
            leaks = found[owner]
            self.assertEqual(len(leaks), count, leaks)
            for leak in leaks:
                self.assertEqual(leak["kind"], kind)
                self.assertTrue(os.path.basename(leak["path"]).startswith(prefix), leak)
                self.assertIn("child_writer.py", " ".join(leak["origin"]["subprocess"]))
        self.assertIn("made by a child process of example_children.TestStarts.test_1_starts "
                      "after it ended: pid ", completed.stderr)
        self.assertEqual(os.listdir(tmpdir), [])

    def test_outcomes_are_unittests(self):
        theirs, _, _ = self.run_examples("unittest", "example_children", "example_children_module")
        ours, _, _ = self.run_examples("tempguard.runner", "example_children",
                                       "example_children_module")
        self.assertEqual(theirs.returncode, 0, theirs.stderr)
        self.assertEqual(ours.returncode, 0, ours.stderr)
        self.assertEqual(support.unittest_part(ours.stderr), support.unittest_part(theirs.stderr))

    def test_in_fail_mode_a_childs_late_file_fails_its_starter(self):
        completed, report, _ = self.run_examples("tempguard.runner", "example_children",
                                                 "--leaks", "fail")
        self.assertEqual(completed.returncode, 1, completed.stderr)
        summary = completed.stderr.split("\ntempguard: ", 1)[0]
        self.assertIn("FAIL: example_children.TestStarts.test_1_starts\n", summary)
        self.assertNotIn("FAIL: example_children.TestStarts.test_2_innocent", summary)
        self.assertIn("(confirmed once the child processes that could still write it had "
                      "exited)", summary)

    def test_a_child_that_outlives_the_test_process_is_waited_for_and_judged(self):
        """Pool workers often exit only after the test process: its run root was left in
        TMPDIR ("still being written"), and the child's file was never judged."""
        completed, report, tmpdir = self.run_examples("tempguard.runner",
                                                      "example_children_after_exit")
        self.assertEqual(completed.returncode, 0, completed.stderr)
        leaks = [(entry["id"], os.path.basename(leak["path"]), leak["judged"])
                 for entry in report["tests"] for leak in entry["leaks"]]
        self.assertEqual(leaks, [("example_children_after_exit.OutlivesItsParent.test_starts",
                                  "after-its-parent", "child")], completed.stderr)
        self.assertEqual(os.listdir(tmpdir), [])

    def test_a_child_still_writing_at_the_end_keeps_its_files_and_is_named(self):
        completed, report, tmpdir = self.run_examples("tempguard.runner",
                                                      "example_children_forever")
        self.assertEqual(completed.returncode, 0, completed.stderr)
        (entry,) = [entry for entry in report["tests"] if entry["notes"]]
        self.assertEqual(entry["id"], "example_children_forever.Forever.test_starts")
        (note,) = entry["notes"]
        self.assertRegex(note, r"still being written by pid \d+, a child of "
                               r"example_children_forever.Forever.test_starts; left in place")
        pid = int(note.split("pid ", 1)[1].split(",", 1)[0])
        self.addCleanup(os.kill, pid, signal.SIGKILL)
        (root,) = os.listdir(tmpdir)
        scope_dirs = [name for name in os.listdir(os.path.join(tmpdir, root)) if len(name) == 3]
        (scope_dir,) = scope_dirs
        (written,) = os.listdir(os.path.join(tmpdir, root, scope_dir))
        self.assertTrue(written.startswith("forever"))
        self.assertEqual(report["totals"]["leaked"], 0)
        # Neither a later run's pruning nor the monitor takes it from the child.
        written = os.path.join(tmpdir, root, scope_dir, written)
        pruned = support.run_python(
            ["-c", "import sys; from tempguard import sandbox; sandbox.prune_runs(sys.argv[1], 0)",
             tmpdir])
        self.assertEqual(pruned.returncode, 0, pruned.stderr)
        monitor = support.run_python(["-m", "tempguard.monitor", tmpdir, "--clean-orphans"])
        self.assertIn("the temp dir (TMPDIR) of pid %d" % pid, monitor.stdout + monitor.stderr)
        self.assertTrue(os.path.exists(written), monitor.stdout + monitor.stderr)


if __name__ == "__main__":
    unittest.main()
