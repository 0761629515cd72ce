"""The processes of one invocation: who shares one, one report from many writers, and
--keep-runs counting invocations."""

import json
import os
import subprocess
import sys
import tempfile
import unittest

from tempguard import inuse, invocation, report, sandbox, session, settings
from tests import support

_WRITER = """
import sys
from tempguard import jsonreport as report
path, invocation, part, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
for number in range(count):
    tests = [{"id": "%s.test_%d" % (part, n), "leaks": []} for n in range(number + 1)]
    totals = {"tests": number + 1, "created": 1, "cleanup_seconds": 0.5}
    report.write_json(path, {"version": 2, "origins": "off", "tests": tests, "fixtures": [],
                             "totals": totals}, invocation, part)
"""

_POOL = """
import json, multiprocessing, os, sys
from tempguard import invocation
if __name__ == "__main__":
    with multiprocessing.get_context(sys.argv[1]).Pool(2) as pool:
        ids = pool.map(invocation.current_id, [None] * 4)
    print(json.dumps([os.getpid(), sorted(set(ids)), invocation.current_id()]))
"""


class CurrentIdTest(unittest.TestCase):

    def test_explicit_and_xdist_ids(self):
        self.assertEqual(invocation.current_id({"TEMPGUARD_INVOCATION": "ci-42"}), "ci-42")
        self.assertEqual(invocation.current_id({"PYTEST_XDIST_WORKER": "gw1",
                                                "PYTEST_XDIST_TESTRUNUID": "abc"}), "xdist-abc")
        self.assertIsNone(invocation.current_id({"PYTEST_XDIST_TESTRUNUID": "abc"}))

    # multiprocessing starts its processes with it here (with CreateProcess on Windows).
    @support.needs("_posixsubprocess")
    def test_multiprocessing_workers_share_their_parent(self):
        for method in ("fork", "spawn"):
            with self.subTest(method=method):
                completed = support.run_python(["-c", _POOL, method])
                self.assertEqual(completed.returncode, 0, completed.stderr)
                pid, ids, own = json.loads(completed.stdout)
                self.assertEqual(len(ids), 1, ids)
                # With its start time where /proc tells it, against a reused pid.
                self.assertRegex(ids[0], r"^mp-%d%s$" % (pid, "-\\d+" if support.HAS_PROC
                                                         else ""))
                self.assertIsNone(own)


class JoinedReportTest(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.addCleanup(support._remove, self.dir)
        self.path = os.path.join(self.dir, "report.json")

    def test_concurrent_writers_each_leave_their_last_part(self):
        env = dict(os.environ, PYTHONPATH=support.PROJECT)
        writers = [subprocess.Popen([sys.executable, "-c", _WRITER, self.path, "inv-1",
                                     "part%d" % number, "15"], env=env)
                   for number in range(3)]
        self.assertEqual([writer.wait(timeout=120) for writer in writers], [0, 0, 0])
        joined = support.load_json(self.path)
        self.assertEqual(joined["invocation"]["id"], "inv-1")
        self.assertEqual(sorted(joined["invocation"]["parts"]), ["part0", "part1", "part2"])
        self.assertEqual(len(joined["tests"]), 45)  # each part's last write: 15 tests
        self.assertEqual(joined["totals"], {"tests": 45, "created": 3, "cleanup_seconds": 1.5})
        self.assertEqual(sorted(name for name in os.listdir(self.dir)), ["report.json"])

    def test_a_report_of_another_invocation_or_none_is_replaced(self):
        single = {"version": 2, "origins": "off", "tests": [{"id": "old", "leaks": []}],
                  "fixtures": [], "totals": {"tests": 1}}
        report.write_json(self.path, single)
        self.assertEqual(support.load_json(self.path), single)
        report.write_json(self.path, dict(single, tests=[{"id": "new", "leaks": []}]),
                          "inv-2", "p1")
        joined = support.load_json(self.path)
        self.assertEqual([test["id"] for test in joined["tests"]], ["new"])
        report.write_json(self.path, single, "inv-3", "p1")
        self.assertEqual(support.load_json(self.path)["invocation"]["parts"], {"p1": {"tests": 1}})

    def test_the_report_being_written_is_no_leak_of_a_watching_session(self):
        elsewhere = tempfile.mkdtemp()
        self.addCleanup(support._remove, elsewhere)
        # Strict: these files are made here, but not by tests the audit hook watches.
        chosen = settings.Settings(report=self.path, watch=[self.dir, elsewhere],
                                   leaks="warn", outside="strict", environ={})
        run = session.Session(chosen, owns_run=False).start()
        try:
            guard = run.begin_test("tests.Writer.test_x")
            for name in ("report.json.4242.partial", "report.json", "stray.txt"):
                open(os.path.join(self.dir, name), "w").close()
            open(os.path.join(elsewhere, "report.json"), "w").close()
            record = guard.finish(False, "none")
        finally:
            run.stop()
        # Only in the report's own directory is a file of its name the report.
        self.assertEqual(sorted(leak.path for leak in record.leaks),
                         sorted([os.path.join(elsewhere, "report.json"),
                                 os.path.join(self.dir, "stray.txt")]))


class KeepRunsTest(unittest.TestCase):

    def setUp(self):
        self.parent = tempfile.mkdtemp()
        self.addCleanup(support._remove, self.parent)

    def finished_root(self, invocation_id, kept):
        root = sandbox.RunRoot.create(self.parent, invocation_id)
        if kept:
            root.keep_dir("tests.T.test_failed")
        root.finish()
        return root.path

    def test_roots_of_one_invocation_count_as_one_run_and_ours_stay(self):
        older = self.finished_root(None, kept=True)
        shard_a = self.finished_root("inv-a", kept=True)
        shard_b = self.finished_root("inv-a", kept=True)
        ours = self.finished_root("inv-b", kept=True)
        sandbox.prune_runs(self.parent, keep_runs=2, invocation="inv-b")
        # ours counts as one run, inv-a as the other: the older run goes.
        self.assertEqual(sorted(os.listdir(self.parent)),
                         sorted(os.path.basename(path) for path in (shard_a, shard_b, ours)))
        self.assertFalse(os.path.exists(older))
        sandbox.prune_runs(self.parent, keep_runs=1, invocation="inv-b")
        self.assertEqual(os.listdir(self.parent), [os.path.basename(ours)])
        sandbox.prune_runs(self.parent, keep_runs=0)
        self.assertEqual(os.listdir(self.parent), [])
        self.assertEqual(inuse.process_start(os.getpid()) is None, not os.path.exists(
            "/proc/self/stat"))


if __name__ == "__main__":
    unittest.main()
