"""TempGuardMixin: helpers, assertions, policies, and odd subclasses, under any runner."""

import io
import os
import re
import tempfile
import threading
import unittest
import warnings

import tempguard
from tempguard import origins
from tests import support


def run_inner(*classes):
    """Run test classes with unittest's plain runner; returns the result."""
    suite = unittest.TestSuite(unittest.defaultTestLoader.loadTestsFromTestCase(cls)
                               for cls in classes)
    return unittest.TextTestRunner(stream=io.StringIO(), verbosity=2).run(suite)


class Base(tempguard.TempGuardMixin, unittest.TestCase):
    """Inner tests collect what they made into `made` so the outer test can check it."""
    tempguard_keep = "none"
    made = []

    def _test_placeholder(self):
        pass


class HelpersTest(unittest.TestCase):

    def test_helpers_return_paths_that_are_removed_after_the_test(self):
        made = []

        class Inner(Base):
            def test_helpers(self):
                named = self.temp_file("text", name="app.ini")
                made.extend([self.temp_file(b"\x00", suffix=".bin"), named,
                             self.temp_file("\u00e9", encoding="latin-1"),
                             self.temp_dir(), self.temp_dir(name="out"),
                             self.temp_tree({"a/b.txt": "c"})])
                self.assertEqual(named.name, "app.ini")
                self.assertEqual(named.read_text(), "text")
                self.assertEqual(made[2].read_bytes(), b"\xe9")
                self.assertEqual(made[4].name, "out")
                self.assertTrue((made[5] / "a" / "b.txt").is_file())
                handle, adopted = tempfile.mkstemp()
                os.close(handle)
                made.append(self.register_temp(adopted))
                self.assertIs(self.temp_context, tempguard.current_context())
        result = run_inner(Inner)
        self.assertTrue(result.wasSuccessful(), result.failures + result.errors)
        self.assertEqual(len(made), 7)
        self.assertEqual([path for path in made if os.path.lexists(str(path))], [])

    def test_bad_names_are_refused(self):
        outcomes = []

        class Inner(Base):
            def test_names(self):
                for name, error in (("", tempguard.UnsafePathError),
                                    ("a/b", tempguard.UnsafePathError),
                                    ("..", tempguard.UnsafePathError),
                                    ("x\0", tempguard.UnsafePathError), (3, TypeError)):
                    with self.assertRaises(error):
                        self.temp_file("x", name=name)
                    with self.assertRaises(error):
                        self.temp_dir(name=name)
                outcomes.append("checked")
        result = run_inner(Inner)
        self.assertTrue(result.wasSuccessful(), result.failures + result.errors)
        self.assertEqual(outcomes, ["checked"])

    def test_each_test_has_its_own_context_also_for_threads(self):
        contexts = []

        class Inner(Base):
            def test_a(self):
                contexts.append(self.temp_context)

            def test_b(self):
                seen = []
                worker = threading.Thread(target=lambda: seen.append(tempguard.current_context()))
                worker.start()
                worker.join()
                contexts.append(seen[0])
                self.assertIs(seen[0], self.temp_context)
        self.assertTrue(run_inner(Inner).wasSuccessful())
        self.assertEqual(len(set(map(id, contexts))), 2)
        self.assertTrue(all(context.closed for context in contexts))


class OutcomesTest(unittest.TestCase):

    def test_cleaned_whatever_the_outcome(self):
        made = []

        class Inner(Base):
            def setUp(self):  # no super() on purpose
                made.append(self.temp_file("from setUp"))
                if self._testMethodName == "test_setup_error":
                    raise RuntimeError("setUp fails")

            def tearDown(self):  # no super() either
                made.append(self.temp_file("from tearDown"))

            def test_fail(self):
                made.append(self.temp_file())
                self.fail("no")

            def test_error(self):
                made.append(self.temp_dir())
                raise ValueError("no")

            def test_setup_error(self):
                pass

            def test_skip(self):
                made.append(self.temp_file())
                self.skipTest("later")

            @unittest.expectedFailure
            def test_expected_failure(self):
                made.append(self.temp_file())
                self.fail("expected")

            def test_subtest(self):
                for number in range(2):
                    with self.subTest(number=number):
                        made.append(self.temp_file())
                        self.assertEqual(number, 0)

            def test_cleanup_made_file(self):
                self.addCleanup(lambda: made.append(self.temp_file("in a cleanup")))
        result = run_inner(Inner)
        self.assertEqual((len(result.failures), len(result.errors), len(result.skipped),
                          len(result.expectedFailures)), (2, 2, 1, 1))
        self.assertGreater(len(made), 12)
        self.assertEqual([path for path in made if path.exists()], [])

    def test_overridden_run_still_guards_the_test(self):
        made = []

        class Inner(Base):
            def run(self, result=None):
                made.append("custom run")
                return super().run(result)

            def test_one(self):
                made.append(self.temp_file())
        self.assertTrue(run_inner(Inner).wasSuccessful())
        self.assertEqual(made[0], "custom run")
        self.assertFalse(made[1].exists())


    def test_subtests_under_a_result_without_add_sub_test(self):
        """Older pytest gives TestCase.run a result with no addSubTest: unittest then
        runs subTests as plain blocks, and the mixin must not claim to take them."""
        made, calls = [], []

        class BareResult(object):
            shouldStop = failfast = False

        for name in ("startTest", "stopTest", "addSuccess", "addFailure", "addError",
                     "addSkip", "addExpectedFailure", "addUnexpectedSuccess"):
            setattr(BareResult, name, lambda self, *args, name=name: calls.append(name))

        class Inner(Base):
            def test_subtests(self):
                for number in (1, 2):
                    with self.subTest(number=number):
                        made.append(self.temp_file())
        Inner("test_subtests").run(BareResult())
        self.assertEqual(calls, ["startTest", "addSuccess", "stopTest"])
        self.assertEqual([path for path in made if path.exists()], [])
        self.assertEqual(len(made), 2)


class AssertionsAndPoliciesTest(unittest.TestCase):

    def test_assert_no_temp_leaks_checks_mid_test(self):
        class Inner(Base):
            def test_clean_so_far(self):
                self.temp_file()
                self.assertNoTempLeaks()

            def test_leaked_already(self):
                handle, path = tempfile.mkstemp(suffix=".mid-test")
                os.close(handle)
                self.addCleanup(os.remove, path)
                self.assertNoTempLeaks()
        result = run_inner(Inner)
        self.assertEqual(len(result.failures), 1)
        self.assertIn("test_leaked_already", result.failures[0][0].id())
        self.assertIn(".mid-test", result.failures[0][1])

    def test_assert_temp_cleaned(self):
        class Inner(Base):
            def test_cleaned(self):
                with tempguard.tracking() as ctx:
                    path = ctx.file()
                self.assertTempCleaned(path)

            def test_not_cleaned(self):
                self.assertTempCleaned(self.temp_file())
        result = run_inner(Inner)
        self.assertEqual([test.id().rsplit(".", 1)[1] for test, _ in result.failures],
                         ["test_not_cleaned"])
        self.assertIn("was not cleaned up", result.failures[0][1])

    def test_fail_policy_fails_the_test_and_warn_policy_warns(self):
        class Fails(Base):
            tempguard_leaks = "fail"

            def test_leak(self):
                tempfile.mkdtemp(suffix=".fail-policy")

        class Warns(Base):
            tempguard_leaks = "warn"

            def test_leak(self):
                tempfile.mkdtemp(suffix=".warn-policy")

        class Ignores(Base):
            tempguard_leaks = "ignore"

            def test_leak(self):
                tempfile.mkdtemp(suffix=".ignore-policy")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = run_inner(Fails, Warns, Ignores)
        self.assertEqual(len(result.failures), 1)
        self.assertIn(".fail-policy", result.failures[0][1])
        leak_warnings = [w for w in caught if issubclass(w.category, tempguard.TempLeakWarning)]
        self.assertEqual(len(leak_warnings), 1)
        self.assertIn(".warn-policy", str(leak_warnings[0].message))


class PlainUnittestTest(unittest.TestCase):
    """The mixin alone, under `python -m unittest`, with its own process sandbox."""

    def test_a_bad_class_policy_is_an_error_naming_the_class_and_the_value(self):
        completed = support.run_python(["-m", "unittest", "example_bad_mixin_policy"],
                                       cwd=os.path.join(support.EXAMPLES, "policies"))
        self.assertEqual(completed.returncode, 1, completed.stderr)
        self.assertIn("ValueError: example_bad_mixin_policy.KeepsAList.tempguard_keep must be "
                      "one of none, failed, all, not ['all']", completed.stderr)

    def test_a_mixin_test_run_inside_another_puts_tempfile_and_tmpdir_back(self):
        """TempdirRedirect had one save slot: the inner test's overwrote the outer's, and
        tempfile and TMPDIR kept pointing into the (soon dead) sandbox."""
        scratch = tempfile.mkdtemp(prefix="scratch-")
        self.addCleanup(support._remove, scratch)
        completed = support.run_python(["-m", "unittest", "-v", "example_nested"],
                                       cwd=os.path.join(support.EXAMPLES, "mixin"),
                                       env={"TMPDIR": scratch, "ORIGINAL_TMPDIR": scratch})
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertIn("test_tempfile_and_tmpdir_are_as_they_were", completed.stderr)
        self.assertEqual(os.listdir(scratch), [], completed.stderr)

    def test_a_leak_warning_stays_a_warning_where_warnings_are_errors(self):
        """Under python -W error the warn mode's TempLeakWarning was raised in the test:
        a passing test failed. Only fail mode may change outcomes."""
        runs = {}
        for flags in ([], ["-W", "error"]):
            scratch = support.scratch_dir(self)
            runs[bool(flags)] = support.run_python(
                flags + ["-m", "unittest", "-v", "example_mixin"],
                cwd=os.path.join(support.EXAMPLES, "mixin"), env={"TMPDIR": scratch})
        def outcomes(completed):
            return (completed.returncode,
                    re.findall(r"^(?:FAIL|ERROR): .*$|^(?:OK|FAILED)\b.*$", completed.stderr,
                               re.M))
        self.assertEqual(outcomes(runs[True]), outcomes(runs[False]), runs[True].stderr)
        self.assertIn("TempLeakWarning", runs[True].stderr)

    def test_a_leak_warning_of_an_inherited_test_points_at_the_module_that_wrote_it(self):
        """The warning read the line from the class's module, shorter than the test's:
        IndexError out of warnings, and unittest's summary was lost."""
        scratch = support.scratch_dir(self)
        completed = support.run_python(["-m", "unittest", "example_inherited"],
                                       cwd=os.path.join(support.EXAMPLES, "mixin"),
                                       env={"TMPDIR": scratch})
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertNotIn("Traceback", completed.stderr)
        self.assertRegex(completed.stderr, r"example_leaky_base\.py:15: TempLeakWarning: "
                                           r"tempguard: example_inherited\.Inherited\.test_leaks")
        self.assertIn(".inherited", completed.stderr)
        self.assertRegex(completed.stderr, r"\nOK\n")

    def test_mixin_under_plain_unittest(self):
        scratch = tempfile.mkdtemp(prefix="scratch-")
        self.addCleanup(support._remove, scratch)
        completed = support.run_python(["-m", "unittest", "-v", "example_mixin"],
                                       cwd=os.path.join(support.EXAMPLES, "mixin"),
                                       env={"TMPDIR": scratch})
        printed = dict(line.split(" ", 1) for line in completed.stdout.splitlines())
        self.assertEqual(completed.returncode, 1, completed.stderr)
        self.assertIn("FAIL: test_leaks (example_mixin.FailsOnLeaks", completed.stderr)
        self.assertIn("FAIL: test_fails (example_mixin.KeepsFailures", completed.stderr)
        self.assertIn("TempLeakWarning", completed.stderr)
        self.assertIn(".warn-mode", completed.stderr)
        # The warning and the failure name the line that made the file, where Python can.
        for line in (30, 38):
            made = "made at example_mixin.py:%d in test_leaks" % line
            (self.assertIn if origins.AVAILABLE else self.assertNotIn)(made, completed.stderr)
        self.assertIn("setUpClass (example_mixin.WithClassFixture) left 1", completed.stderr)
        for key in ("SHARED", "TEST"):
            self.assertFalse(os.path.exists(printed[key]), key)
        self.assertIn("tempguard kept this test's temporary files in:", completed.stderr)
        roots = os.listdir(scratch)
        self.assertEqual(len(roots), 1, roots)
        kept = os.path.join(scratch, roots[0], "kept")
        self.assertEqual(os.listdir(kept), ["example_mixin.KeepsFailures.test_fails"])
