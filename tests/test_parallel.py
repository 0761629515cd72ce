"""Parallel runs keep every guarantee: one planted suite, run serially and by each parallel
engine, gives the same leaks, outcomes and kept files, in one report per invocation."""

import importlib.util
import os
import re
import tempfile
import unittest

from tempguard import sandbox
from tests import support

PLANTED = os.path.join(support.EXAMPLES, "parallel")
MODULES = ["test_planted_a", "test_planted_b", "test_planted_c"]
FAILING = "test_planted_b.Failing.test_fails_with_files"
HOLDER = "test_planted_a.Holder.test_holds_a_file"


def _missing(*modules):
    return [module for module in modules if importlib.util.find_spec(module) is None]


def _django_spawn_problem():
    import django
    if django.VERSION < (4, 1):
        return "Django %s runs --parallel with fork only (spawn needs 4.1)" % django.__version__
    return None


class PlantedSuiteTest(unittest.TestCase):
    """Each mode in a temp dir of its own, compared with `python -m tempguard.runner`."""

    def run_mode(self, args, report_option=True, overlap=False, env=None):
        scratch = tempfile.mkdtemp(prefix="scratch-")
        self.addCleanup(support._remove, scratch)
        handle, self.log = tempfile.mkstemp(prefix="planted-log-")  # not in the run's TMPDIR
        os.close(handle)
        self.addCleanup(os.remove, self.log)
        report = os.path.join(scratch, "report.json")
        if report_option:
            args = args + ["--report", report]
        completed = support.run_python(args, cwd=PLANTED, env={
            "TMPDIR": scratch, "TEMPGUARD_REPORT": report, "PLANTED_LOG": self.log,
            "PLANTED_OVERLAP": "1" if overlap else "",
            "PYTHONPATH": os.pathsep.join([support.PROJECT, PLANTED]), **(env or {})})
        output = completed.stdout + completed.stderr
        self.assertTrue(os.path.exists(report), output)
        return completed, support.load_json(report), scratch

    @staticmethod
    def leaks(report):
        """The set of (test or fixture id, kind, where, the planted name): a worker that
        runs tests of a class or module runs (and leaks in) its fixtures too, so xdist
        may list those twice."""
        return sorted(set((record["id"], leak["kind"], leak["where"],
                           os.path.basename(leak["path"]).rsplit("-", 1)[0])
                          for record in report["tests"] + report["fixtures"]
                          for leak in record["leaks"]))

    @staticmethod
    def outcomes(report):
        return sorted((record["id"], record["outcome"]) for record in report["tests"])

    def check_left(self, scratch):
        """Only run roots holding the failing test's kept files remain (and pytest's own dir)."""
        kept = []
        for name in os.listdir(scratch):
            path = os.path.join(scratch, name)
            if name.startswith("pytest-of-") or name == "report.json":
                continue
            self.assertIsNotNone(sandbox.read_run_root(path), name)
            self.assertEqual(sorted(os.listdir(path)), ["kept", sandbox.MARKER], name)
            kept += os.listdir(os.path.join(path, "kept"))
        self.assertEqual(kept, [FAILING])

    def check_kept(self, report):
        [failing] = [record for record in report["tests"] if record["id"] == FAILING]
        names = os.listdir(failing["kept"])
        self.assertTrue(any(name.startswith("planted-failing-") for name in names), names)
        self.assertTrue(any(os.path.exists(os.path.join(failing["kept"], name, "evidence.txt"))
                            for name in names), names)

    def test_every_parallel_engine_matches_the_serial_run(self):
        serial, expected, scratch = self.run_mode(["-m", "tempguard.runner"] + MODULES)
        self.assertEqual(serial.returncode, 1, serial.stderr)
        self.assertEqual(len(self.leaks(expected)), 7, expected)
        self.assertIn(("setUpModule (test_planted_c)", "file", "sandbox", "planted-module"),
                      self.leaks(expected))
        self.assertIn(("setUpClass (test_planted_c.Leaky)", "dir", "sandbox", "planted-class"),
                      self.leaks(expected))
        self.assertIn((HOLDER, "passed"), self.outcomes(expected))
        self.check_kept(expected)
        self.check_left(scratch)
        modes = [
            ("django fork", ["django", "tblib"], None,
             ["django_planted.py", "fork", "--parallel", "2"] + MODULES),
            ("django spawn", ["django", "tblib"], _django_spawn_problem,
             ["django_planted.py", "spawn", "--parallel", "2"] + MODULES),
            ("unittest-parallel", ["unittest_parallel"], None,
             ["-m", "unittest_parallel", "-j", "2", "--runner", "tempguard.TempGuardRunner",
              "-p", "test_planted_*.py"]),
            ("pytest-xdist", ["pytest", "xdist"], None,
             support.PYTEST + ["-q", "-n", "2"]
             + [module + ".py" for module in MODULES]),
        ]
        for name, needs, problem, args in modes:
            with self.subTest(mode=name):
                missing = _missing(*needs)
                if missing:
                    self.skipTest("%s not installed for this Python (.ci/run installs them "
                                  "where they install)" % ", ".join(missing))
                reason = problem() if problem else None
                if reason:
                    self.skipTest(reason)
                completed, report, scratch = self.run_mode(args, report_option=False,
                                                           overlap=True)
                output = completed.stdout + completed.stderr
                self.assertNotEqual(completed.returncode, 0, output)
                self.assertIn("planted failure", output)
                self.assertNotRegex(output, _TEMPGUARD_FRAME)
                self.assertEqual(self.outcomes(report), self.outcomes(expected), output)
                self.assertEqual(self.leaks(report), self.leaks(expected), output)
                self.check_kept(report)
                self.check_left(scratch)
                self.check_overlap()
                if name.startswith("django"):
                    self.check_failure_as_django_prints_it(args, output)

    def test_parallel_engines_share_a_baseline_and_a_keep_dir(self):
        """Workers mark what the baseline knows, rewrite it each for its own tests (under a
        lock, reading it again: unittest-parallel's workers each close a run), and keep
        into one --keep-dir with one manifest."""
        engines = [("django fork", ("django", "tblib"),
                    ["django_planted.py", "fork", "--parallel", "2"] + MODULES),
                   ("unittest-parallel", ("unittest_parallel",),
                    ["-m", "unittest_parallel", "-j", "2", "--runner",
                     "tempguard.TempGuardRunner", "-p", "test_planted_*.py"])]
        for name, needs, args in engines:
            with self.subTest(engine=name):
                missing = _missing(*needs)
                if missing:
                    self.skipTest("%s not installed for this Python (.ci/run installs them "
                                  "where they install)" % ", ".join(missing))
                files = tempfile.mkdtemp(prefix="ci-files-")
                self.addCleanup(support._remove, files)
                baseline = os.path.join(files, "baseline.txt")
                artifacts = os.path.join(files, "kept")
                _, serial, _ = self.run_mode(["-m", "tempguard.runner"] + MODULES)
                completed, _, _ = self.run_mode(args, report_option=False, env={
                    "TEMPGUARD_BASELINE": baseline, "TEMPGUARD_UPDATE_BASELINE": "1"})
                with open(baseline) as handle:
                    tests = set(line.split("\t")[0] for line in handle
                                if not line.startswith("#"))
                owners = set(leak["owner"] or record["id"] for record in
                             serial["tests"] + serial["fixtures"] for leak in record["leaks"])
                self.assertEqual(tests, owners, completed.stderr)
                completed, report, _ = self.run_mode(args, report_option=False, env={
                    "TEMPGUARD_BASELINE": baseline, "TEMPGUARD_KEEP_DIR": artifacts})
                output = completed.stdout + completed.stderr
                self.assertGreater(report["totals"]["leaked"], 0, output)
                self.assertEqual(report["totals"]["known"], report["totals"]["leaked"], output)
                self.assertEqual(report["baseline"]["fixed"], [])
                manifest = support.load_json(os.path.join(artifacts, "manifest.json"))
                self.assertEqual([entry["test"] for entry in manifest["kept"]], [FAILING],
                                 output)
                self.assertNotIn("could not write", output)

    def check_overlap(self):
        """Another process's test leaked while the holder held its file (which it then
        found intact: its test passed)."""
        with open(self.log) as handle:
            lines = [line.split() for line in handle]
        when = {test_id: (int(pid), float(time)) for test_id, pid, time in lines}
        holder, start = when[HOLDER + ":start"]
        _holder, end = when[HOLDER + ":end"]
        self.assertTrue(any(pid != holder and start <= time <= end
                            for test_id, (pid, time) in when.items()), lines)

    def check_failure_as_django_prints_it(self, args, output):
        """The failure's lines are those of Django's own parallel runner, apart from ours."""
        scratch = tempfile.mkdtemp(prefix="scratch-")
        self.addCleanup(support._remove, scratch)
        plain = support.run_python(args, cwd=PLANTED, env={
            "TMPDIR": scratch, "PLANTED_PLAIN": "1",
            "PYTHONPATH": os.pathsep.join([support.PROJECT, PLANTED])})
        self.assertEqual(_failure_block(output), _failure_block(plain.stdout + plain.stderr))


def _failure_block(output):
    """The planted failure as unittest prints it, without tempguard's kept-files line."""
    block = output.split("FAIL: ", 1)[1].split("\nRan ", 1)[0]
    return re.sub(r"\n\ntempguard kept this test's temporary files in: [^\n]*", "",
                  block).splitlines()


# A traceback through tempguard's own code: it crashed in some worker.
_TEMPGUARD_FRAME = r'File "[^"]*/tempguard/[a-z_]+\.py"'


if __name__ == "__main__":
    unittest.main()
