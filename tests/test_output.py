"""What tempguard prints reads at any scale and whatever the names (tests/examples/output)."""

import base64
import json
import os
import re
import unittest

from tempguard import origins
from tests import support

OUTPUT = os.path.join(support.EXAMPLES, "output")
SCREEN = 24  # lines


def after_summary(stderr):
    """The lines tempguard printed after unittest's closing line (OK or FAILED), but for
    the one a reduced platform adds (see support.REDUCED_NOTE)."""
    _, _, tail = re.split(r"\n(OK|FAILED)\b[^\n]*\n", support.REDUCED_NOTE.sub("", stderr),
                          maxsplit=1)
    return tail.splitlines()


def strict_strings(value):
    """Every string of a parsed JSON document, checked to be valid UTF-8 (Python's own
    parser accepts lone surrogates, which strict parsers reject)."""
    if isinstance(value, str):
        value.encode("utf-8")
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from strict_strings(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strict_strings(key)
            yield from strict_strings(item)


class ScaleTest(unittest.TestCase):

    def test_twenty_thousand_leaks_from_one_line_fit_on_a_screen(self):
        """They printed 40,014 lines: each path, then where it was made."""
        report = os.path.join(support.scratch_dir(self), "report.json")
        completed, tmp = support.run_runner(self, "output", "example_many", "--report", report)
        self.assertEqual(completed.returncode, 0, completed.stderr[-2000:])
        lines = after_summary(completed.stderr)
        self.assertLessEqual(len(lines), SCREEN, "\n".join(lines))
        self.assertIn("  20,000 files made at example_many.py:15 in test_forgets_many"
                      if origins.AVAILABLE else "  20,000 files", lines)
        self.assertIn("    and 19,997 more (all in the JSON report %s; --all-leaks "
                      "(TEMPGUARD_ALL_LEAKS=1) lists them here)" % report, lines)
        self.assertRegex(lines[-1], r"^tempguard: 20000 leaked \(20000 files, 0 dirs\); "
                                    r"helpers made 0 entries \(0 B\) and removed 0 in ")
        (entry,) = support.load_json(report)["tests"]
        self.assertEqual(len(entry["leaks"]), 20000)
        self.assertEqual(os.listdir(tmp), [])

    def test_all_leaks_lists_every_path(self):
        completed, _ = support.run_runner(self, "output", "example_many", "--all-leaks",
                                          env={"EXAMPLE_COUNT": "50"})
        self.assertEqual(completed.returncode, 0, completed.stderr)
        paths = [line for line in after_summary(completed.stderr)
                 if re.match(r"^  file .*/many", line)]
        self.assertEqual(len(paths), 50)

    def test_leaks_ignore_prints_no_leak_lines(self):
        completed, tmp = support.run_runner(self, "output", "example_many", "--leaks", "ignore",
                                            env={"EXAMPLE_COUNT": "5"})
        self.assertEqual(completed.returncode, 0, completed.stderr)
        lines = after_summary(completed.stderr)
        self.assertEqual([line for line in lines if line], [
            "tempguard: 5 leaked (5 files, 0 dirs); helpers made 0 entries (0 B) and removed "
            "0 in %s" % lines[-1].rsplit(" ", 1)[1]], completed.stderr)
        self.assertEqual(os.listdir(tmp), [])


class SharedPlaceTest(unittest.TestCase):

    def test_one_helper_s_leaks_in_many_tests_are_one_block_listing_the_tests(self):
        """mutagen: one helper's 60 leaks in 31 tests filled 154 lines, a block per test."""
        completed, tmp = support.run_runner(self, "output", "example_helper")
        self.assertEqual(completed.returncode, 0, completed.stderr)
        lines = after_summary(completed.stderr)
        if not origins.AVAILABLE:  # no line to group by: a block per test, as before
            self.assertIn("example_helper.Format11.test_reads", lines)
            return
        self.assertLessEqual(len(lines), 26, "\n".join(lines))
        self.assertIn("24 files made at example_helper.py:12 in copy_of_fixture, by 12 tests "
                      "or fixtures", lines)
        for number in range(12):  # every test named, a line each
            self.assertIn("  example_helper.Format%02d.test_reads (2)" % number, lines)
        self.assertIn("  (their paths: --all-leaks (TEMPGUARD_ALL_LEAKS=1) lists them here)",
                      lines)
        self.assertIn("example_helper.Own.test_its_own_leak", lines)  # a line of its own
        everything, _ = support.run_runner(self, "output", "example_helper", "--all-leaks")
        listed = [line for line in after_summary(everything.stderr)
                  if re.match(r"^    file .*\.wav$", line)]
        self.assertEqual(len(listed), 24, everything.stderr)
        self.assertEqual(os.listdir(tmp), [])


class HostileNamesTest(unittest.TestCase):

    def check_escaped(self, text):
        self.assertNotRegex(text, r"(?m)^line-FORGED")
        self.assertNotIn("\x1b", text)
        self.assertIn("x\\nline-FORGED", text)
        self.assertIn("esc\\x1b[31mred\\x1b[0m", text)
        self.assertIn("not-utf8-\\xff\\xfe", text)

    def test_names_are_escaped_in_the_runner_s_section_and_the_json_is_utf_8(self):
        """A newline in a name printed a line that looked like tempguard's own, an escape
        sequence recoloured the terminal, and the JSON held lone surrogates."""
        report = os.path.join(support.scratch_dir(self), "report.json")
        completed, _ = support.run_runner(self, "output", "example_hostile", "--report", report)
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.check_escaped(completed.stderr)
        with open(report, "rb") as handle:
            document = json.loads(handle.read().decode("utf-8"))
        self.assertTrue(all(True for _ in strict_strings(document)))
        leaks = [leak for test in document["tests"] for leak in test["leaks"]]
        recovered = {base64.b64decode(leak["path_bytes"]) for leak in leaks
                     if "path_bytes" in leak}
        self.assertEqual({os.path.basename(path) for path in recovered},
                         {b"not-utf8-\xff\xfe"})

    def test_names_are_escaped_in_the_mixin_s_warning_and_the_monitor(self):
        scratch = support.scratch_dir(self)
        completed = support.run_python(
            ["-m", "unittest", "example_hostile.HostileMixin"], cwd=OUTPUT,
            env={"TMPDIR": scratch, "PYTHONPATH": support.PROJECT})
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertIn("TempLeakWarning", completed.stderr)
        self.check_escaped(completed.stderr)
        plain = support.run_python(["-m", "unittest", "example_hostile.Hostile"], cwd=OUTPUT,
                                   env={"TMPDIR": scratch})
        self.assertEqual(plain.returncode, 0, plain.stderr)
        listing = support.run_python(["-m", "tempguard.monitor", scratch, "--top", "10"])
        self.assertEqual(listing.returncode, 0, listing.stderr)
        self.check_escaped(listing.stdout)


if __name__ == "__main__":
    unittest.main()
