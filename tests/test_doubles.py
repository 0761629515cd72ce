"""Test doubles: suites that replace the file-system functions tempguard uses (mock.patch
of os, shutil and tempfile; pyfakefs's fake file system) keep their outcomes, and each
leak is blamed on its own test at its line, because tempguard calls only the real
functions (see tempguard.real)."""

import importlib.util
import os
import re
import unittest

from tests import support

SUITE = os.path.join(support.EXAMPLES, "doubles")
PLANTED = {"one-": "example_doubles.PatchesListingInSetUpClass.test_one",
           "two-": "example_doubles.PatchesListingInSetUpClass.test_two",
           "counted-": "example_doubles.CountsItsOwnUnlinks.test_removes_one_and_leaks_one",
           "mixin-": "example_doubles.MixinUnderDoubles.test_helpers_and_a_leak"}


def _run(test, args):
    scratch = support.scratch_dir(test)
    completed = support.run_python(list(args), cwd=SUITE, env={"TMPDIR": scratch})
    return completed, scratch


def _leaks(report):
    """{basename prefix: (owner, file, line)} of a report's leaks."""
    found = {}
    for entry in report["tests"] + report["fixtures"]:
        for leak in entry["leaks"]:
            prefix = re.match(r"[a-z]+-", os.path.basename(leak["path"])).group(0)
            stack = [leak["origin"]] + leak["origin"].get("stack", []) if leak["origin"] else []
            lines = [frame["line"] for frame in stack
                     if frame.get("file", "").endswith(("example_doubles.py", "suite.py",
                                                        "example_fakefs.py"))]
            found[prefix] = (leak["owner"], lines)
    return found


def _summary(stderr):
    """unittest's closing lines: how many ran, and the verdict. (Under plain unittest the
    mixin's own warnings come first.)"""
    return re.findall(r"^(?:Ran \d+ tests?|OK.*|FAILED.*)$", support.unittest_part(stderr),
                      re.M)


def _runner_as_unittest(test, module):
    """Run *module* under plain unittest and under the runner: the same closing lines and
    exit status, 0; (the runner's leaks (see _leaks), its TMPDIR)."""
    plain, _ = _run(test, ["-m", "unittest", module])
    report_path = os.path.join(support.scratch_dir(test), "report.json")
    guarded, scratch = _run(test, ["-m", "tempguard.runner", module, "--report", report_path])
    test.assertEqual(plain.returncode, 0, plain.stderr)
    test.assertEqual((guarded.returncode, _summary(guarded.stderr)),
                     (plain.returncode, _summary(plain.stderr)))
    return _leaks(support.load_json(report_path)), scratch


class MockedFunctionsTest(unittest.TestCase):
    """mock.patch of os.lstat, os.listdir, os.scandir, os.unlink, os.fstat, shutil.rmtree
    and tempfile.mkdtemp, started in setUpModule, setUpClass and setUp."""

    def test_the_runner_keeps_unittest_s_outcomes_and_blames_each_test(self):
        leaks, scratch = _runner_as_unittest(self, "example_doubles")
        self.assertEqual({prefix: owner for prefix, (owner, _) in leaks.items()}, PLANTED)
        if support.origins.AVAILABLE:
            for prefix, (_, lines) in leaks.items():
                self.assertEqual(len(lines), 2, (prefix, lines))  # plant's line, the test's
        self.assertEqual(os.listdir(scratch), [])

    def test_the_mixin_under_plain_unittest_keeps_its_outcomes(self):
        completed, scratch = _run(self, ["-m", "unittest", "-v", "example_doubles"])
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertIn("test_helpers_and_a_leak (example_doubles.MixinUnderDoubles", completed.stderr)
        self.assertIn("example_doubles.MixinUnderDoubles.test_helpers_and_a_leak left 1 "
                      "temporary entry behind", completed.stderr)

    def test_pytest_keeps_its_outcomes_and_blames_each_test(self):
        support.require("pytest")
        report_path = os.path.join(support.scratch_dir(self), "report.json")
        plain, _ = _run(self, support.PYTEST + ["example_doubles.py"])
        guarded, _ = _run(self, support.PYTEST + ["-p", "tempguard.pytest_plugin", "--tempguard",
                                                  "--tempguard-report", report_path,
                                                  "example_doubles.py"])
        self.assertEqual(plain.returncode, 0, plain.stdout)
        self.assertEqual(guarded.returncode, 0, guarded.stdout + guarded.stderr)
        self.assertIn("4 passed", guarded.stdout)
        owners = {prefix: owner.split("::")[-2:] for prefix, (owner, _)
                  in _leaks(support.load_json(report_path)).items()}
        self.assertEqual(owners, {prefix: test.split(".")[-2:]
                                  for prefix, test in PLANTED.items()})


class RealFunctionsTest(unittest.TestCase):
    """tempguard.real in process: its os, os.path and os.py's own functions (makedirs,
    walk) call no double a test put on the os module."""

    def test_no_double_is_called(self):
        from tempguard.real import os as real_os
        from unittest import mock
        where = os.path.join(support.scratch_dir(self), "a", "b")
        refuse = mock.Mock(side_effect=AssertionError("a double was called"))
        with mock.patch("os.lstat", refuse), mock.patch("os.stat", refuse), \
                mock.patch("os.path.exists", refuse), mock.patch("os.mkdir", refuse):
            real_os.makedirs(where)
            self.assertTrue(real_os.path.isdir(where))
            self.assertFalse(real_os.path.islink(where))
            self.assertEqual([top for top, _dirs, _files in real_os.walk(where)], [where])
        self.assertEqual(refuse.call_count, 0)


class PyfakefsTest(unittest.TestCase):
    """pyfakefs puts a fake os in every module that imported os; tempguard's own calls
    must still reach the real file system."""

    def setUp(self):
        support.require("pyfakefs")

    @support.needs("uids")  # pyfakefs calls os.getuid where sys.platform is not win32
    def test_fake_filesystem_unittest_under_the_runner(self):
        leaks, scratch = _runner_as_unittest(self, "example_fakefs")
        self.assertEqual({prefix: owner for prefix, (owner, _) in leaks.items()},
                         {"real-": "example_fakefs.Real.test_real_leak"})
        self.assertEqual(os.listdir(scratch), [])

    @support.needs("uids")  # pyfakefs calls os.getuid where sys.platform is not win32
    def test_the_fs_fixture_under_pytest_serially_and_under_xdist(self):
        support.require("pytest")
        plain, _ = _run(self, support.PYTEST + ["-p", "pyfakefs.pytest_plugin",
                                                "fakefs_suite.py"])
        self.assertEqual(plain.returncode, 0, plain.stdout)
        for extra in ([], ["-n", "2"]):
            if extra and importlib.util.find_spec("xdist") is None:
                continue
            with self.subTest(extra=extra):
                report_path = os.path.join(support.scratch_dir(self), "report.json")
                guarded, _ = _run(self, support.PYTEST + extra + [
                    "-p", "pyfakefs.pytest_plugin", "-p", "tempguard.pytest_plugin",
                    "--tempguard", "--tempguard-report", report_path, "fakefs_suite.py"])
                self.assertEqual(guarded.returncode, 0, guarded.stdout + guarded.stderr)
                self.assertRegex(guarded.stdout, r"4 passed")
                leaks = _leaks(support.load_json(report_path))
                self.assertEqual({prefix: owner.split("::")[-1] for prefix, (owner, _)
                                  in leaks.items()}, {"real-": "test_real_leak"})


if __name__ == "__main__":
    unittest.main()
