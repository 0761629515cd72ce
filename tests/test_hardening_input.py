"""Hardening against bad input: every public entry point refuses it clearly, and
nothing is created or deleted because of it."""

import functools
import json
import os
import tempfile
import unittest

import tempguard
from tests import support
from tests.test_runner import run_runner

NOT_STR = (None, 42, b"bytes", ["list"])
BAD_NAMES = ("", "a/b", "/abs", "nul\0", "..")


class PublicApiTest(unittest.TestCase):

    def setUp(self):
        self.sentinel = support.make_sentinel(self)
        self.context = tempguard.tracking("bad-input").__enter__()
        self.addCleanup(self.context.close)
        self.a_file = str(self.context.file("x"))
        self.a_dir = str(self.context.directory())

    def cases(self):
        """(description, call, exception) for every public function and bad value."""
        ctx, cases = self.context, []
        for value in NOT_STR:
            cases += [("tracking(name=%r)" % (value,), lambda v=value: tempguard.tracking(v),
                       TypeError)] if value is not None else []
            cases += [("register(%r)" % (value,), lambda v=value: ctx.register(v), TypeError),
                      ("register_file(%r)" % (value,),
                       lambda v=value: tempguard.register_file(v), TypeError),
                      ("tree(%r)" % (value,), lambda v=value: ctx.tree(v), TypeError)]
            if value is not None:
                cases += [("file(suffix=%r)" % (value,), lambda v=value: ctx.file(suffix=v),
                           TypeError),
                          ("directory(prefix=%r)" % (value,),
                           lambda v=value: ctx.directory(prefix=v), TypeError)]
        for value in ("a/b", "/abs", "nul\0", "../up"):
            cases += [("file(prefix=%r)" % value, lambda v=value: ctx.file(prefix=v),
                       tempguard.UnsafePathError),
                      ("directory(suffix=%r)" % value, lambda v=value: ctx.directory(suffix=v),
                       tempguard.UnsafePathError),
                      ("create_temp_file(suffix=%r)" % value,
                       lambda v=value: tempguard.create_temp_file(suffix=v),
                       tempguard.UnsafePathError)]
        for key in ("", "/abs", "../up", "a/../../up", "nul\0", "."):
            cases.append(("tree({%r: 'x'})" % key, lambda k=key: ctx.tree({"ok": "x", k: "x"}),
                          tempguard.UnsafePathError))
        cases += [
            ("file(content=3.5)", lambda: ctx.file(3.5), TypeError),
            ("file(encoding='no-such')", lambda: ctx.file("x", encoding="no-such"), LookupError),
            ("tree({'a': 3})", lambda: ctx.tree({"ok": "x", "a": 3}), TypeError),
            ("tree(root=missing)", lambda: ctx.tree({"a": "x"}, root=self.a_dir + "/missing"),
             NotADirectoryError),
            ("tree(root=file)", lambda: ctx.tree({"a": "x"}, root=self.a_file),
             NotADirectoryError),
            ("register('')", lambda: ctx.register(""), ValueError),
            ("register(nul)", lambda: ctx.register("a\0b"), ValueError),
            ("register(missing)", lambda: ctx.register(self.a_dir + "/missing"),
             FileNotFoundError),
            ("register('/')", lambda: ctx.register("/"), tempguard.UnsafePathError),
            ("register(cwd)", lambda: ctx.register(os.getcwd()), tempguard.UnsafePathError),
            ("register(temp dir)", lambda: ctx.register(tempfile.gettempdir()),
             tempguard.UnsafePathError),
            ("register_file(dir)", lambda: tempguard.register_file(self.a_dir),
             IsADirectoryError),
            ("register_directory(file)", lambda: tempguard.register_directory(self.a_file),
             NotADirectoryError),
            ("TempGuardRunner(leaks='maybe')", lambda: tempguard.TempGuardRunner(leaks="maybe"),
             ValueError),
            ("TempGuardRunner(keep_runs=-1)", lambda: tempguard.TempGuardRunner(keep_runs=-1),
             ValueError),
            ("TempGuardRunner(report=dir)", lambda: tempguard.TempGuardRunner(report=self.a_dir),
             IsADirectoryError),
            ("TempGuardRunner(watch=file)", lambda: tempguard.TempGuardRunner(watch=[self.a_file]),
             NotADirectoryError),
            ("TempGuardRunner(resultclass=object)",
             lambda: tempguard.TempGuardRunner(resultclass=object), TypeError),
            ("TempGuardRunner(resultclass=instance)",
             lambda: tempguard.TempGuardRunner(resultclass=unittest.TestResult()), TypeError),
            ("TempGuardRunner(resultclass=partial(print))",
             lambda: tempguard.TempGuardRunner(resultclass=functools.partial(print)), TypeError),
        ]
        return cases

    def test_every_bad_call_raises_clearly_and_changes_nothing(self):
        cases = self.cases()
        self.assertGreater(len(cases), 50)
        before = support.snapshot(tempfile.gettempdir())
        stats = (self.context.stats.created, self.context.stats.adopted)
        for description, call, error in cases:
            with self.subTest(call=description):
                with self.assertRaises(error) as caught:
                    call()
                self.assertTrue(str(caught.exception), "an exception with no message")
        self.assertEqual(support.snapshot(tempfile.gettempdir()), before)
        self.assertEqual((self.context.stats.created, self.context.stats.adopted), stats)


class MixinInputTest(unittest.TestCase):

    def test_helpers_refuse_bad_names_and_content_before_making_anything(self):
        outcome = {}

        class Helpers(tempguard.TempGuardMixin, unittest.TestCase):
            def test_bad_calls(self):
                before = support.snapshot(tempfile.gettempdir())
                calls = [lambda n=name: self.temp_file(name=n) for name in BAD_NAMES]
                calls += [lambda n=name: self.temp_dir(name=n) for name in BAD_NAMES]
                calls += [lambda: self.temp_file(name=42), lambda: self.temp_dir(name=b"x"),
                          lambda: self.temp_file(3.5, name="ok"),
                          lambda: self.temp_file("x", name="ok", suffix="/up"),
                          lambda: self.temp_tree({"../up": "x"}),
                          lambda: self.register_temp("")]
                for call in calls:
                    with self.assertRaises((TypeError, ValueError)):
                        call()
                outcome["calls"] = len(calls)
                outcome["unchanged"] = before == support.snapshot(tempfile.gettempdir())

        result = unittest.TestResult()
        Helpers("test_bad_calls").run(result)
        self.assertEqual(result.failures + result.errors, [])
        self.assertEqual(outcome, {"calls": 16, "unchanged": True})

    def test_bad_class_policies_are_refused_when_the_class_is_made(self):
        for attribute, value in (("tempguard_leaks", "sometimes"), ("tempguard_keep", True)):
            with self.subTest(attribute=attribute):
                with self.assertRaises(ValueError) as caught:
                    type("BadPolicy", (tempguard.TempGuardMixin, unittest.TestCase),
                         {attribute: value})
                self.assertIn("BadPolicy.%s" % attribute, str(caught.exception))


class CommandLineInputTest(unittest.TestCase):

    def test_runner_options_are_usage_errors_that_create_nothing(self):
        directory = tempfile.mkdtemp(prefix="scratch-")
        self.addCleanup(support._remove, directory)
        for args in (["--report", os.path.join(directory, "missing", "r.json")],
                     ["--report", directory], ["--keep-runs", "x"], ["--keep-runs", "1.5"],
                     ["--leaks"], ["--watch", os.path.join(directory, "missing")]):
            with self.subTest(args=args):
                completed, scratch = run_runner(self, "clean", *args)
                self.assertEqual(completed.returncode, 2, completed.stderr)
                self.assertIn("error:", completed.stderr)
                self.assertEqual(os.listdir(scratch), [])
                self.assertEqual(os.listdir(directory), [])


if __name__ == "__main__":
    unittest.main()


def _report(tests=[], totals=None, **extra):
    from tempguard.jsonreport import REPORT_VERSION
    report = {"version": REPORT_VERSION, "tests": tests, "fixtures": [],
              "totals": totals if totals is not None else {"passed": 1, "leaked": 0}}
    report.update(extra)
    return report


class InputFilesTest(unittest.TestCase):
    """Files the user names to read: a baseline, and reports to show or merge."""

    def setUp(self):
        self.dir = support.scratch_dir(self)
        from tempguard.jsonreport import REPORT_VERSION
        self.version = REPORT_VERSION

    def path(self, name):
        return os.path.join(self.dir, name)

    def write(self, name, data):
        with open(self.path(name), "w") as handle:
            handle.write(data if isinstance(data, str) else json.dumps(data))
        return self.path(name)

    def assert_usage_error(self, args, says, timeout=20):
        before = sorted(os.listdir(self.dir))
        completed = support.run_python(args, cwd=self.dir, env={"TMPDIR": self.dir},
                                       timeout=timeout)
        self.assertEqual(completed.returncode, 2, completed.stdout + completed.stderr)
        self.assertIn(says, completed.stderr)
        self.assertNotIn("Traceback", completed.stderr)
        self.assertEqual(sorted(os.listdir(self.dir)), before)

    @support.needs("fifos")
    def test_a_fifo_a_device_or_a_directory_is_a_one_line_error_never_a_hang(self):
        os.mkfifo(self.path("fifo"))
        os.mkdir(self.path("dir"))
        for given in (self.path("fifo"), "/dev/zero", self.path("dir")):
            for args in (["-m", "tempguard.runner", "discover", "-s", self.dir,
                          "--baseline", given],
                         ["-m", "tempguard.report", "show", given],
                         ["-m", "tempguard.report", "merge", "-o", self.path("out.json"),
                          given]):
                with self.subTest(given=given, command=args[1]):
                    self.assert_usage_error(args, "%s: not a regular file" % given)

    def test_reports_of_the_wrong_shape_are_one_line_errors(self):
        deep = "[" * 100000 + "]" * 100000
        cases = {"totals a list": _report(totals=[1, 2]),
                 "tests an int": _report(tests=5),
                 "deep nesting": '{"version": %d, "tests": %s, "fixtures": [], "totals": {}}'
                                 % (self.version, deep),
                 "NaN totals": '{"version": %d, "tests": [], "fixtures": [], '
                               '"totals": {"passed": NaN}}' % self.version,
                 "Infinity totals": '{"version": %d, "tests": [], "fixtures": [], '
                                    '"totals": {"passed": Infinity}}' % self.version}
        for name, data in cases.items():
            given = self.write(name.replace(" ", "-") + ".json", data)
            with self.subTest(name):
                self.assert_usage_error(["-m", "tempguard.report", "show", given], given)
                self.assert_usage_error(["-m", "tempguard.report", "merge", "-o",
                                         self.path("out.json"), given], given)

    def test_every_name_merge_and_show_print_is_escaped(self):
        run = support.run_python(["-m", "tempguard.runner", "--report", self.path("run.json"),
                                  "example_clean"], cwd=os.path.join(support.EXAMPLES, "clean"),
                                 env={"TMPDIR": self.dir})
        self.assertRegex(run.stderr, r"Ran \d+ tests")  # some fail on purpose
        report = support.load_json(self.path("run.json"))
        report["tests"][0]["id"] += "\n::error file=x::injected"
        names = [self.write("shard\n::add-mask::%d.json" % number, report) for number in (1, 2)]
        merged = support.run_python(["-m", "tempguard.report", "merge", "-o",
                                     self.path("merged.json")] + names, cwd=self.dir)
        shown = support.run_python(["-m", "tempguard.report", "show",
                                    self.path("merged.json")], cwd=self.dir)
        for completed in (merged, shown):
            self.assertEqual(completed.returncode, 0, completed.stderr)
            lines = (completed.stdout + completed.stderr).splitlines()
            self.assertEqual([line for line in lines if line.startswith("::")], [], lines)
        self.assertIn("more than one report", merged.stderr)
