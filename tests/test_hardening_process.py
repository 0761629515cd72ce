"""Hardening, across processes and threads: crashes, forks, concurrent runs, racing threads.

Signals sent to a whole run (SIGINT, SIGTERM, SIGKILL) are in test_runner's
InterruptTest; pytest-xdist's two workers in test_integrations.
"""

import os
import subprocess
import tempfile
import threading
import time
import unittest

import tempguard
from tests import support
from tests.test_hardening_fs import hostile_suite


class HostileRunTestCase(unittest.TestCase):
    """Runs tests of the hostile example suite, each in its own workspace."""

    def setUp(self):
        self.work, self.prefix, self.env = support.child_workspace(
            self, unprivileged=False, files=hostile_suite())
        self.tmp = os.path.join(self.work, "tmp")
        os.mkdir(self.tmp, 0o700)
        self.env["TMPDIR"] = self.tmp

    def runner(self, *args, **popen_args):
        popen_args.setdefault("env", self.env)
        return subprocess.Popen(
            self.prefix + ["-m", "tempguard.runner"] + list(args), cwd=self.work,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
            **popen_args)

    def run_tests(self, *args):
        child = self.runner(*args)
        _, err = child.communicate(timeout=120)
        return child.returncode, err

    def report_of(self, name):
        return support.load_json(os.path.join(self.work, name))


class CrashTest(HostileRunTestCase):

    def test_os_exit_in_a_test_is_cleaned_up_and_reported_by_the_supervisor(self):
        code, err = self.run_tests("example_hostile.Crashes.test_os_exit")
        self.assertEqual(code, 3)
        self.assertIn("the test process exited with status 3 without handing its records "
                      "over", err)
        self.assertIn("2 entries were left in the sandbox that the test process never judged: "
                      "listed as leaks of the run; 2 removed", err)
        self.assertIn("2 leaked", err)
        self.assertEqual(os.listdir(self.tmp), [])

    def test_sys_exit_in_a_test_is_an_error_as_in_unittest_and_its_files_are_kept(self):
        code, err = self.run_tests("--report", "report.json",
                                   "example_hostile.Crashes.test_sys_exit")
        plain = subprocess.run(
            self.prefix + ["-m", "unittest", "example_hostile.Crashes.test_sys_exit"],
            cwd=self.work, env=dict(self.env, TMPDIR=self.work), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, universal_newlines=True, timeout=120)
        self.assertEqual((code, err.splitlines()[0]),
                         (plain.returncode, plain.stderr.splitlines()[0]))
        entry = self.report_of("report.json")["tests"][0]
        self.assertEqual(entry["outcome"], "error")
        self.assertEqual(len(os.listdir(entry["kept"])), 2, "the tracked and the sandboxed file")
        root = os.path.dirname(os.path.dirname(entry["kept"]))
        self.assertEqual(sorted(os.listdir(root)), ["kept", "tempguard-run.json"])

    def test_forked_children_never_remove_the_parents_files(self):
        code, err = self.run_tests(
            "--report", "report.json",
            "example_hostile.Crashes.test_forked_child_runs_its_exit_handlers",
            "example_hostile.Crashes.test_forked_child_is_terminated")
        self.assertEqual(code, 0, err)
        self.assertEqual(err.count("Ran 2 tests"), 1, "a forked child went on with the suite")
        for entry in self.report_of("report.json")["tests"]:
            self.assertEqual(entry["outcome"], "passed")
            self.assertEqual(len(entry["leaks"]), 1)
        self.assertEqual(os.listdir(self.tmp), [])


class ConcurrentRunsTest(HostileRunTestCase):

    def test_two_runs_on_one_temp_dir_keep_to_their_own(self):
        barrier = os.path.join(self.work, "barrier")
        os.mkdir(barrier)
        self.env["BARRIER"] = barrier
        tests = ["example_hostile.Concurrent.test_meets_the_other_run",
                 "example_hostile.Concurrent.test_fails_and_keeps"]
        children = [self.runner("--keep-runs", "0", "--report", "report-%d.json" % number, *tests,
                                env=dict(self.env, RUN_TAG=str(number)))
                    for number in (1, 2)]
        for child in children:
            _, err = child.communicate(timeout=120)
            self.assertEqual(child.returncode, 1, err)
        for number, child in enumerate(children, 1):
            entries = {entry["id"].rsplit(".", 1)[1]: entry
                       for entry in self.report_of("report-%d.json" % number)["tests"]}
            met = entries["test_meets_the_other_run"]
            self.assertEqual(met["outcome"], "passed", met)
            self.assertEqual([os.path.basename(leak["path"]).rsplit(".", 1)[1]
                              for leak in met["leaks"]], ["leak-%d" % number])
            self.assertEqual(entries["test_fails_and_keeps"]["outcome"], "failed")
            self.assertEqual(entries["test_fails_and_keeps"]["leaks"], [])


class ThreadRaceTest(unittest.TestCase):

    def test_threads_creating_files_while_their_context_is_cleaned(self):
        made, refused, stop = [], [], threading.Event()
        context = tempguard.tracking("race").__enter__()

        def create():
            while not stop.is_set():
                try:
                    made.append(context.file(b"x", prefix="race-"))
                except tempguard.TempGuardError:
                    refused.append(1)
                    return
        workers = [threading.Thread(target=create, daemon=True) for _ in range(4)]
        for worker in workers:
            worker.start()
        try:
            time.sleep(0.2)
            context.close()
            time.sleep(0.05)
        finally:
            # Also when the run is interrupted here: threads left creating files in
            # whatever the temp dir is then would fill it.
            stop.set()
            for worker in workers:
                worker.join()
        self.assertGreater(len(made), 10)
        self.assertEqual(len(refused), 4, "every thread should be refused once closed")
        self.assertEqual([path for path in made if os.path.lexists(str(path))], [])
        self.assertEqual([name for name in os.listdir(tempfile.gettempdir())
                          if name.startswith("race-")], [])


if __name__ == "__main__":
    unittest.main()
