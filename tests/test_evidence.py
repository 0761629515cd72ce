"""Blame needs evidence (issue 23): in a temp dir shared with other programs, an entry
outside the sandbox is this run's leak only when the run is seen making it.

A real foreign writer (a separate process, started before the run) makes a file in
the run's temp dir every 10 ms and removes each 0.5 s later, while clean tests run.
"""

import os
import subprocess
import sys
import unittest

from tempguard import origins
from tests import support

EVIDENCE = os.path.join(support.EXAMPLES, "evidence")

# A foreign writer: files named foreign-N, each removed 0.5 s after it was made.
_WRITER = """
import collections, os, sys, time
where, made, number = sys.argv[1], collections.deque(), 0
open(os.path.join(where, "writer-ready"), "w").close()
while not os.path.exists(os.path.join(where, "writer-stop")):
    path = os.path.join(where, "foreign-%d" % number)
    open(path, "w").close()
    made.append((time.monotonic(), path))
    number += 1
    while made and made[0][0] < time.monotonic() - 0.5:
        os.unlink(made.popleft()[1])
    time.sleep(0.01)
for _, path in made:
    os.unlink(path)
os.unlink(os.path.join(where, "writer-stop"))
os.unlink(os.path.join(where, "writer-ready"))
"""


class _ForeignWriter(object):
    """Runs the foreign writer in self.tmp while each test runs."""

    def setUp(self):
        self.tmp = support.scratch_dir(self)
        writer = subprocess.Popen([sys.executable, "-c", _WRITER, self.tmp])
        self.addCleanup(self.stop_writer, writer)
        support.wait_for(os.path.join(self.tmp, "writer-ready"))

    def stop_writer(self, writer):
        if writer.poll() is None:
            open(os.path.join(self.tmp, "writer-stop"), "w").close()
            writer.wait(timeout=60)


class ForeignWriterTest(_ForeignWriter, unittest.TestCase):

    def run_suite(self, *args, command="tempguard.runner", env=None):
        report = os.path.join(support.scratch_dir(self), "report.json")
        extra = ["--report", report] if command == "tempguard.runner" else []
        completed = support.run_python(["-m", command, "example_busy"] + extra + list(args),
                                       cwd=EVIDENCE, env=dict(env or {}, TMPDIR=self.tmp))
        return completed, (support.load_json(report) if extra else None)

    def test_a_clean_suite_passes_in_fail_mode_beside_a_busy_writer(self):
        """Every foreign file used to be an "outside leak" of the running test: exit 1."""
        plain, _ = self.run_suite(command="unittest")
        self.assertEqual(plain.returncode, 0, plain.stderr)
        completed, report = self.run_suite("--leaks", "fail")
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertEqual(support.unittest_part(completed.stderr),
                         support.unittest_part(plain.stderr))
        self.assertEqual(report["totals"]["leaked"], 0, completed.stderr)
        self.assertGreater(report["totals"]["unattributed"], 0, completed.stderr)
        entries = [entry for test in report["tests"] for entry in test["unattributed"]]
        self.assertTrue(all(os.path.basename(entry["path"]).startswith("foreign-")
                            for entry in entries), entries)
        self.assertIn("tempguard: appeared in the temp dir during the run; nothing shows this "
                      "run made it", completed.stderr)
        # Grouped as leaks are: a count, three names and where the rest are, per test.
        section = completed.stderr.split("nothing shows this run made it\n", 1)[1]
        section = section.split("\n\n", 1)[0].splitlines()
        self.assertLessEqual(len(section), 12, section)

    def test_the_mixin_s_mid_test_check_and_fail_mode_need_evidence_too(self):
        """assertNoTempLeaks and the mixin's fail mode counted the writer's files."""
        for command in ("unittest", "tempguard.runner"):
            completed = support.run_python(["-m", command, "example_mixin_busy"], cwd=EVIDENCE,
                                           env={"TMPDIR": self.tmp})
            self.assertEqual(completed.returncode, 0, command + completed.stderr)

    def test_strict_mode_counts_what_appeared_as_leaks(self):
        completed, report = self.run_suite("--outside", "strict")
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertGreater(report["totals"]["leaked"], 0, completed.stderr)
        self.assertEqual(report["totals"]["unattributed"], 0)

    def test_a_planted_leak_is_blamed_on_evidence_and_the_writer_s_files_are_not(self):
        planted = os.path.join(self.tmp, "planted-by-the-test")
        completed, report = self.run_suite("--leaks", "fail", env={"EXAMPLE_PLANT": planted})
        leaks = [(test["id"], leak["path"]) for test in report["tests"] for leak in test["leaks"]]
        if not origins.AVAILABLE:
            # No audit hooks: nothing outside the sandbox can be attributed, and it says so.
            self.assertEqual((completed.returncode, leaks), (0, []), completed.stderr)
            self.assertIn("so nothing outside the sandbox can be attributed", completed.stderr)
            return
        self.assertEqual(completed.returncode, 1, completed.stderr)
        self.assertEqual(leaks, [("example_busy.Plants.test_plants_a_file_in_the_real_temp_dir",
                                  planted)])
        self.assertTrue(os.path.exists(planted))  # outside: reported, never removed
        os.unlink(planted)


class ConcurrentRunsTest(_ForeignWriter, unittest.TestCase):

    @support.needs("fork")  # its suite has a forked copy
    def test_three_concurrent_runs_each_blame_their_own_leaks_only(self):
        """Three runs share one TMPDIR beside the writer: every other run's files and the
        writer's appear in each, and used to be blamed on whatever test ran then."""
        plain = support.run_python(["-m", "unittest", "example_planted"], cwd=EVIDENCE,
                                   env={"TMPDIR": support.scratch_dir(self),
                                        "EXAMPLE_TAG": "plain",
                                        "EXAMPLE_REAL_TMP": support.scratch_dir(self)})
        self.assertEqual(plain.returncode, 0, plain.stderr)
        runs = {}
        for tag in ("run0", "run1", "run2"):
            report = os.path.join(support.scratch_dir(self), "report.json")
            env = dict(os.environ, TMPDIR=self.tmp, EXAMPLE_TAG=tag, EXAMPLE_REAL_TMP=self.tmp,
                       PYTHONPATH=support.PROJECT)
            runs[tag] = (subprocess.Popen(
                [sys.executable, "-m", "tempguard.runner", "example_planted", "--report", report],
                cwd=EVIDENCE, env=env, stderr=subprocess.PIPE, universal_newlines=True), report)
        for tag, (process, report) in runs.items():
            stderr = process.communicate(timeout=300)[1]
            self.assertEqual((process.returncode, support.unittest_part(stderr)),
                             (0, support.unittest_part(plain.stderr)), stderr)
            report = support.load_json(report)
            leaks = sorted((test["id"].rsplit(".", 1)[1], os.path.basename(leak["path"]))
                           for test in report["tests"] for leak in test["leaks"])
            mkstemp = [name for test, name in leaks if test == "test_1_mkstemp"]
            self.assertEqual(len(mkstemp), 1, leaks)
            self.assertTrue(mkstemp[0].startswith(tag + "-mkstemp"), leaks)
            expected = [("test_1_mkstemp", mkstemp[0]), ("test_5_leaves_a_file", "left-for-later")]
            if origins.AVAILABLE:  # else nothing outside the sandbox can be attributed
                expected += [("test_2_open_a_hard_coded_path", tag + "-open"),
                             ("test_3_a_forked_copy", tag + "-fork")]
            self.assertEqual(leaks, sorted(expected), stderr)
            unattributed = {os.path.basename(entry["path"]): entry for test in report["tests"]
                            for entry in test["unattributed"]}
            self.assertTrue(all(name.startswith(("foreign-", "run")) for name in unattributed),
                            unattributed)
            child = unattributed[tag + "-child"]  # seen by its own run: it appeared there
            self.assertTrue(child["origin"]["children_alive"], child)
            self.assertIn("of this run was running then: a child's files are attributed only "
                          "in the temp dir it was given", stderr)
        for tag in runs:
            for name in ("open", "fork", "child"):
                os.unlink(os.path.join(self.tmp, "%s-%s" % (tag, name)))


class JudgedLateRemovedAtTheEndTest(unittest.TestCase):

    def test_a_later_test_reads_what_an_earlier_one_left_as_under_unittest(self):
        """The earlier test's leak was removed as soon as it was judged (at the end of
        its class), so the later test failed under the runner."""
        results = {}
        for command in ("unittest", "tempguard.runner"):
            tmp = support.scratch_dir(self)
            report = os.path.join(support.scratch_dir(self), "report.json")
            extra = ["--report", report] if command == "tempguard.runner" else []
            completed = support.run_python(["-m", command, "example_reads_earlier"] + extra,
                                           cwd=EVIDENCE, env={"TMPDIR": tmp})
            results[command] = completed
        runner, plain = results["tempguard.runner"], results["unittest"]
        self.assertEqual(plain.returncode, 0, plain.stderr)
        self.assertEqual((runner.returncode, support.unittest_part(runner.stderr)),
                         (0, support.unittest_part(plain.stderr)), runner.stderr)
        leaks = [(test["id"], os.path.basename(leak["path"]))
                 for test in support.load_json(report)["tests"] for leak in test["leaks"]]
        self.assertEqual(leaks, [("example_reads_earlier.A.test_leaves_a_file",
                                  "left-for-later")])


class ForkedCopyTest(unittest.TestCase):

    @support.needs("fork")
    def test_what_a_forked_copy_makes_is_blamed_on_the_test_that_forked(self):
        """The audit hook runs in the copy too, but what it saw stayed in the copy: the
        entry was "not ours"."""
        tmp = support.scratch_dir(self)
        report = os.path.join(support.scratch_dir(self), "report.json")
        planted = os.path.join(tmp, "planted-by-a-fork")
        completed = support.run_python(["-m", "tempguard.runner", "example_fork", "--report",
                                        report], cwd=EVIDENCE,
                                       env={"TMPDIR": tmp, "EXAMPLE_PLANT": planted})
        self.assertEqual(completed.returncode, 0, completed.stderr)
        entry = support.load_json(report)["tests"][0]
        if not origins.AVAILABLE:
            self.assertEqual([item["path"] for item in entry["unattributed"]], [planted])
            return
        self.assertEqual([(leak["path"], leak["where"]) for leak in entry["leaks"]],
                         [(planted, "outside")], completed.stderr)
        self.assertEqual(list(entry["leaks"][0]["origin"]), ["forked"])
        self.assertIn("made by a forked copy of the test process: pid ", completed.stderr)
