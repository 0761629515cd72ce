"""A child process's temp files belong to whoever started it (tests/examples/children).

Each example child writes its files while later tests run, after its starter
ended; the report must blame the starter, never the test running then, and
the outcomes must be unittest's.
"""

import os
import re
import signal
import sys
import unittest

from tempguard import children
from tempguard.children import CHILD_GRACE_SECONDS
from tests import support

CHILDREN = os.path.join(support.EXAMPLES, "children")

# Leak owner: (how many, what kind, the prefix its names start with).
EXPECTED = {
    "example_children.TestStarts.test_1_starts": (3, "file", "late"),
    "setUpClass (example_children.ServerClass)": (2, "file", "server"),
    "example_children.Grandchild.test_1_starts": (1, "file", "grand"),
    "example_children.Crowd.test_1_starts": (1, "file", "crowd"),
    "example_children.OwnTmpdir.test_1_starts": (1, "dir", "own-own"),
    "setUpModule (example_children_module)": (2, "file", "module"),
}


class ChildrenTest(unittest.TestCase):

    def fresh_dirs(self):
        """A new scratch dir: its control dir and TMPDIR, also kept as self.control and
        self.tmpdir."""
        scratch = support.scratch_dir(self)
        self.control = os.path.join(scratch, "control")
        self.tmpdir = os.path.join(scratch, "tmp")
        os.mkdir(self.control)
        os.mkdir(self.tmpdir)
        return scratch

    def run_examples(self, runner, *modules):
        scratch = self.fresh_dirs()
        control, tmpdir = self.control, self.tmpdir
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
        expected = dict(EXPECTED)
        if not support.HAS_PROC:
            # A grandchild is found by its environment (docs/platforms): without /proc its
            # file is its starter's only if it came before the dir was asked about again,
            # and never an innocent test's (an extra owner fails the comparison below).
            for owner in ("example_children.Grandchild.test_1_starts",
                          "example_children.Crowd.test_1_starts"):
                del expected[owner]
                found.pop(owner, None)
        self.assertEqual(sorted(found), sorted(expected), completed.stderr)
        for owner, (count, kind, prefix) in expected.items():
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
        # The supervisor's wait for it is not unittest's: it took 3 s of the timed run.
        took = float(re.search(r"Ran 1 test in ([\d.]+)s", completed.stderr).group(1))
        self.assertLess(took, CHILD_GRACE_SECONDS, completed.stderr)

    def test_a_child_still_running_at_the_end_keeps_its_dir_until_it_exits(self):
        """Its root was left in TMPDIR for a later run to prune, for good on a machine
        where tempguard never runs again."""
        completed, report, tmpdir = self.run_examples("tempguard.runner",
                                                      "example_children_forever")
        self.assertEqual(completed.returncode, 0, completed.stderr)
        (entry,) = [entry for entry in report["tests"] if entry["notes"]]
        self.assertEqual(entry["id"], "example_children_forever.Forever.test_starts")
        (note,) = entry["notes"]
        self.assertEqual(report["totals"]["leaked"], 0)
        self.check_removed_once_exited(note, tmpdir, "example_children_forever.Forever")

    def test_a_daemon_that_only_inherited_its_temp_dir_holds_the_end_only_so_long(self):
        """python-gnupg's tests start gpg-agent, which never exits: the run root and a
        detached tempguard process stayed for as long as it lived."""
        support.needs_proc(self, "finding a process by the temp dir in its environment")
        pidfile = os.path.join(support.scratch_dir(self), "daemon.pid")
        scratch = self.fresh_dirs()
        report = os.path.join(scratch, "report.json")
        completed = support.run_python(
            ["-m", "tempguard.runner", "example_children_daemon", "--report", report],
            cwd=CHILDREN, env={"TMPDIR": self.tmpdir, "DAEMON_PIDFILE": pidfile})
        support.wait_for(pidfile)
        with open(pidfile) as handle:
            daemon = int(handle.read())
        self.addCleanup(_kill, daemon)
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertIn("a process that only has it as its temp dir is waited for %d s"
                      % children.INHERITED_WAIT_SECONDS, completed.stderr)
        support.wait_until(lambda: os.listdir(self.tmpdir) == [],
                           children.INHERITED_WAIT_SECONDS + 20,
                           lambda: "TMPDIR still holds %s" % os.listdir(self.tmpdir))
        self.assertFalse(support.unused(daemon), "the daemon was to outlive the run")
        leaks = support.load_json(report)["totals"]["leaked"]
        self.assertEqual(leaks, 0)

    def test_under_the_mixin_too(self):
        self.fresh_dirs()
        completed = support.run_python(
            ["-m", "unittest", "example_children_forever_mixin"], cwd=CHILDREN,
            env={"TMPDIR": self.tmpdir, "EXAMPLE_CONTROL": self.control,
                 "PYTHONPATH": support.PROJECT})
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertIn("\ntempguard: notes (at interpreter exit)\n"
                      "example_children_forever_mixin.ForeverMixin.test_starts\n  ",
                      completed.stderr)
        (note,) = [line for line in completed.stderr.splitlines() if "still used by" in line]
        # 3.12 alone refuses to fork in an atexit handler: the root is left, marked
        # finished, for a later run or the monitor to prune once the child is gone.
        self.check_removed_once_exited(note, self.tmpdir,
                                       "example_children_forever_mixin.ForeverMixin",
                                       reaped=sys.version_info[:2] != (3, 12))

    def check_removed_once_exited(self, note, tmpdir, test_class, reaped=True):
        """*note* names the child still running and its command line; its dir stays while
        it lives, and all of TMPDIR is removed once it has exited (*reaped*), or by a
        later run's pruning."""
        self.assertRegex(note, r"still used by pid \d+ \(\S*python\S* \S*child_writer.py "
                               r"forever 1 --forever\), a child of %s.test_starts, when the run "
                               r"ended; removed once no process uses it" % re.escape(test_class))
        pid = int(note.split("pid ", 1)[1].split(" ", 1)[0])
        self.addCleanup(_kill, pid)
        (root,) = os.listdir(tmpdir)
        (scope_dir,) = [name for name in os.listdir(os.path.join(tmpdir, root)) if len(name) == 3]
        (written,) = os.listdir(os.path.join(tmpdir, root, scope_dir))
        self.assertTrue(written.startswith("forever"))
        # Neither a later run's pruning nor the monitor takes it from the child.
        written = os.path.join(tmpdir, root, scope_dir, written)
        pruned = support.run_python(
            ["-c", "import sys; from tempguard import sandbox; sandbox.prune_runs(sys.argv[1], 0)",
             tmpdir])
        self.assertEqual(pruned.returncode, 0, pruned.stderr)
        monitor = support.run_python(["-m", "tempguard.monitor", tmpdir])
        if reaped:
            # Held by the process that removes it later, which holds nothing else: not the
            # caller's pipes (this test's run_python would have waited for it), no terminal.
            reaper = int(re.search(r"\n +live +pid (\d+) +%s\n" % re.escape(
                os.path.join(tmpdir, root)), monitor.stdout).group(1))
            if support.HAS_PROC:  # what it holds is seen there only
                fd_dir = "/proc/%d/fd" % reaper
                held = {os.readlink(os.path.join(fd_dir, fd)) for fd in os.listdir(fd_dir)}
                # Its polls read /proc/PID/stat for a moment; CI caught one (3.7, 2026-12-08).
                self.assertEqual({path for path in held if not path.startswith(
                    (tmpdir + os.sep, "/proc/"))}, {os.devnull}, held)
            self.assertNotEqual(os.getsid(reaper), os.getsid(0))  # a session of its own
        # Without /proc the monitor cleans only when told to skip the in-use checks: the
        # run's lock still keeps a live run.
        cleaned = support.run_python(["-m", "tempguard.monitor", tmpdir, "--clean-orphans",
                                      "--yes"] + ([] if support.HAS_PROC
                                                  else ["--without-in-use-checks"]))
        self.assertEqual(cleaned.returncode, 0, cleaned.stderr)
        self.assertTrue(os.path.exists(written), cleaned.stdout + cleaned.stderr)
        open(os.path.join(self.control, "forever.stop"), "w").close()
        support.wait_for(os.path.join(self.control, "forever.stopped"), 30)
        if not reaped:
            support.wait_until(lambda: support.unused(pid), 30, lambda: "%d still runs" % pid)
            pruned = support.run_python(["-c", "import sys; from tempguard import sandbox; "
                                         "sandbox.prune_runs(sys.argv[1], 0)", tmpdir])
            self.assertEqual(pruned.returncode, 0, pruned.stderr)
        support.wait_until(lambda: os.listdir(tmpdir) == [], 30,
                           lambda: "TMPDIR still holds %s" % os.listdir(tmpdir))


def _kill(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


if __name__ == "__main__":
    unittest.main()
