"""Every leak names where it was made (tests/examples/origins): the line marked
"# origin: NAME" in the example suite, its callers, or the child process."""

import json
import os
import re
import sys
import unittest

from tempguard import origins
from tests import support

ORIGINS = os.path.join(support.EXAMPLES, "origins")

# Test or fixture id: the marked lines of its leak's origin, innermost first.
EXPECTED = {
    "example_origins.Direct.test_mkstemp": ["mkstemp"],
    "example_origins.Direct.test_mkdtemp": ["mkdtemp"],
    "example_origins.Direct.test_named_temporary_file": ["named"],
    "example_origins.Direct.test_open_in_a_watched_dir": ["open"],
    "example_origins.Direct.test_shutil_copy": ["copy"],
    "example_origins.Direct.test_thread": ["thread"],
    "example_origins.Direct.test_helper": ["make_copy", "helper_from_test"],
    "example_origins.InSetUp.test_uses_it": ["make_copy", "helper_from_setup"],
    "example_origins.InSetUpDirectly.test_nothing": ["setup"],
    "setUpClass (example_origins.InSetUpClass)": ["setup_class"],
}


def marked_lines():
    """{NAME: (file, line, function)} of every "# origin: NAME" line of the example suite."""
    marks = {}
    for filename in ("example_origins.py", "origin_helpers.py"):
        path = os.path.join(ORIGINS, filename)
        function = None
        with open(path) as handle:
            for number, line in enumerate(handle, 1):
                defined = re.match(r"\s*def (\w+)", line)
                if defined:
                    function = defined.group(1)
                mark = re.search(r"# origin: (\w+)", line)
                if mark:
                    marks[mark.group(1)] = (path, number, function)
    return marks


class OriginsTest(unittest.TestCase):

    def run_example(self, *args, env=None):
        scratch = support.scratch_dir(self)
        watched = os.path.join(scratch, "watched")
        os.mkdir(watched)
        report = os.path.join(scratch, "report.json")
        completed = support.run_python(
            ["-m", "tempguard.runner", "example_origins", "--report", report, "--watch", watched]
            + list(args), cwd=ORIGINS,
            env=dict({"TMPDIR": scratch, "EXAMPLE_WATCHED": watched}, **(env or {})))
        self.assertEqual(completed.returncode, 0, completed.stderr)
        report = support.load_json(report)
        leaks = {entry["id"]: entry["leaks"] for entry in report["tests"] + report["fixtures"]
                 if entry["leaks"]}
        return completed, report, leaks

    @unittest.skipUnless(origins.AVAILABLE, "Python %d.%d has no audit hooks: "
                         "test_older_pythons_say_origins_are_unavailable runs instead"
                         % sys.version_info[:2])
    def test_each_leak_names_the_line_that_made_it_and_its_callers(self):
        completed, report, leaks = self.run_example()
        self.assertEqual(report["origins"], "on")
        marks = marked_lines()
        for owner, names in EXPECTED.items():
            (leak,) = leaks.pop(owner)
            origin = leak["origin"]
            frames = [(origin["file"], origin["line"], origin["function"])] + [
                (frame["file"], frame["line"], frame["function"]) for frame in origin["stack"]]
            self.assertEqual(frames, [marks[name] for name in names], owner)
        self.assertIn("    made at origin_helpers.py:%d in make_copy  <- example_origins.py:%d "
                      "in setUp\n" % (marks["make_copy"][1], marks["helper_from_setup"][1]),
                      completed.stderr)
        self.check_subprocess(leaks)

    def check_subprocess(self, leaks):
        (leak,) = leaks.pop("example_origins.Direct.test_subprocess")
        self.assertEqual(leaks, {})
        if not support.needs.has("children's dirs"):  # in the shared sandbox: a hint
            self.assertRegex(leak["origin"]["children_started"][0],
                             r"^python\S* -c import tempfile; tempfile\.mkstemp\(prefix='child'\)$")
            return
        self.assertEqual(leak["origin"]["subprocess"][1:],
                         ["-c", "import tempfile; tempfile.mkstemp(prefix='child')"])
        self.assertIsInstance(leak["origin"]["pid"], int)
        self.assertFalse(leak["origin"]["after_end"])

    @unittest.skipIf(origins.AVAILABLE, "Python %d.%d has audit hooks: "
                     "test_each_leak_names_the_line_that_made_it_and_its_callers runs instead"
                     % sys.version_info[:2])
    def test_older_pythons_say_origins_are_unavailable(self):
        # Without audit hooks an entry outside the sandbox is a leak only in strict mode.
        completed, report, leaks = self.run_example("--outside", "strict")
        reason = "unavailable on Python %d.%d (it has no audit hooks)" % sys.version_info[:2]
        self.assertEqual(report["origins"], reason)
        self.assertIn("(where each was made)\n  %s\n" % reason, completed.stderr)
        for owner in EXPECTED:
            (leak,) = leaks.pop(owner)
            self.assertIsNone(leak["origin"])
        self.check_subprocess(leaks)

    def test_origins_off_names_no_line(self):
        for how in (["--origins", "off"], []):
            with self.subTest(how=how):
                # Without origins, an entry outside the sandbox is a leak only in strict mode.
                completed, report, leaks = self.run_example(
                    "--outside", "strict", *how, env={} if how else {"TEMPGUARD_ORIGINS": "off"})
                self.assertEqual(report["origins"], "off")
                self.assertNotIn("made at", completed.stderr)
                for owner in EXPECTED:
                    (leak,) = leaks[owner]
                    self.assertIsNone(leak["origin"])

    def test_a_bad_origins_value_is_a_usage_error(self):
        scratch = support.scratch_dir(self)
        for args, env in ((["--origins", "maybe"], {}), ([], {"TEMPGUARD_ORIGINS": "maybe"})):
            with self.subTest(args=args, env=env):
                completed = support.run_python(
                    ["-m", "tempguard.runner", "example_origins"] + args, cwd=ORIGINS,
                    env=dict({"TMPDIR": scratch}, **env))
                self.assertEqual(completed.returncode, 2, completed.stderr)
                self.assertIn("origins", completed.stderr.lower())
                self.assertEqual(os.listdir(scratch), [])


class CommandLineTest(unittest.TestCase):

    def test_a_long_checkout_path_shortens_before_the_arguments_are_cut(self):
        """Run from an unpacked sdist in a long temp dir, a child's command lost its last
        arguments ("child_writer.py forever 1 --f..."), the part that told children
        apart; long paths now lose their start first."""
        script = os.path.join(os.sep, "tmp", "tmp.y1HJ1cAqjW", "tempguard-0.2.0", "tests",
                              "examples", "children", "child_writer.py")
        self.assertEqual(origins.command_line(["/usr/bin/python3", script, "forever", "1",
                                               "--forever"]),
                         "python3 %s forever 1 --forever"
                         % os.path.join("...", "children", "child_writer.py"))
        self.assertEqual(origins.command_line(["python3", "/a/b.py", "x"]), "python3 /a/b.py x")
        long = origins.command_line(["python3", "-c", "x" * 200])
        self.assertEqual((len(long), long[-3:]), (100, "..."))


@unittest.skipUnless(origins.AVAILABLE, "Python %d.%d has no audit hooks" % sys.version_info[:2])
class SpellingsTest(unittest.TestCase):
    """The recorder is the evidence that blames an entry outside the sandbox (issue 23):
    it must see an entry made in a watched dir however its path is spelled. A trailing
    slash, a "." segment or a dir_fd-relative mkdir used to go unseen ("not ours")."""

    def setUp(self):
        self.watched = os.path.realpath(support.scratch_dir(self))
        self.elsewhere = os.path.realpath(support.scratch_dir(self))
        os.mkdir(os.path.join(self.elsewhere, "sub"))
        os.symlink(self.watched, os.path.join(self.elsewhere, "link"))
        self.recorder = origins.Recorder([self.watched])
        self.recorder.start()
        self.addCleanup(self.recorder.stop)

    def seen(self, name):
        return self.recorder.origin_of(os.path.join(self.watched, name)) is not None

    def test_every_spelling_of_a_path_in_a_watched_dir_is_seen(self):
        base = os.path.basename(self.watched)
        os.makedirs(self.watched + "/trailing-slash/")
        os.mkdir(self.watched + "/./dot-segment")
        os.mkdir(os.path.join(self.elsewhere, "sub", "..", "..", base, "dot-dot"))
        os.mkdir(os.path.join(self.elsewhere, "link", "through-a-link"))
        open(self.watched + "//double-slash", "w").close()
        cwd = os.getcwd()
        os.chdir(self.elsewhere)
        try:
            os.mkdir(os.path.join("..", base, "relative"))
            os.chdir(self.watched)
            open("relative-file", "w").close()
        finally:
            os.chdir(cwd)
        names = ["trailing-slash", "dot-segment", "dot-dot", "through-a-link", "double-slash",
                 "relative", "relative-file"]
        if support.needs.has("dir_fd"):
            fd = os.open(self.watched, os.O_RDONLY)
            try:
                os.mkdir("by-dir-fd", dir_fd=fd)
            finally:
                os.close(fd)
            names.append("by-dir-fd")
        # A name relative to a dir fd is resolved through /proc/self/fd (docs/platforms.rst).
        missed = ["by-dir-fd"] if "by-dir-fd" in names and not support.HAS_PROC else []
        if not support.UIDS:
            # Windows-like: the simulated junction fools posixpath.realpath (ntpath.realpath
            # resolves junctions on Windows).
            missed.insert(0, "through-a-link")
        self.assertEqual([name for name in names if not self.seen(name)], missed)

    def test_tempfile_s_prefix_and_suffix_are_kept_so_only_its_random_part_is_abstracted(self):
        """A baseline took eight-letter words of a name for tempfile's random part: with
        an empty prefix, ".evidence" became "*"."""
        import tempfile
        from tempguard.baseline import name_pattern
        fd, made = tempfile.mkstemp(prefix="", suffix=".evidence", dir=self.watched)
        os.close(fd)
        made_dir = tempfile.mkdtemp(prefix="classfix-", dir=self.watched)
        with open(os.path.join(self.watched, "settings.overflow"), "w"):
            pass
        origin_of = self.recorder.origin_of
        self.assertEqual(origin_of(made)["tempfile_affixes"], ["", ".evidence"])
        self.assertEqual(origin_of(made_dir)["tempfile_affixes"], ["classfix-", ""])
        plain = origin_of(os.path.join(self.watched, "settings.overflow"))
        self.assertNotIn("tempfile_affixes", plain)
        self.assertEqual([name_pattern(os.path.basename(made), origin_of(made)),
                          name_pattern(os.path.basename(made_dir), origin_of(made_dir)),
                          name_pattern("settings.overflow", plain)],
                         ["*.evidence", "classfix-*", "settings.overflow"])

    def test_what_is_made_inside_a_watched_dir_s_subdirectory_is_not_kept(self):
        os.mkdir(os.path.join(self.watched, "dir"))
        open(os.path.join(self.watched, "dir", "inner"), "w").close()
        self.assertTrue(self.seen("dir"))
        self.assertFalse(self.seen(os.path.join("dir", "inner")))
        self.assertEqual(sorted(self.recorder.made), [os.path.join(self.watched, "dir")])


if __name__ == "__main__":
    unittest.main()


class ForkLogTest(unittest.TestCase):
    """What forked copies write: any name, garbage a test writes, and more than a chunk."""

    @support.needs("fork")  # forked copies' log
    def test_garbage_and_a_log_past_sixteen_megabytes_keep_later_entries(self):
        log = origins._ForkLog()
        self.addCleanup(log.close)
        os.write(log._fd, b"not a pid line\n\xff\xfe\n42 {broken json\n")
        filler = ("7 %s\n" % json.dumps("/x/" + "f" * 200)).encode()
        os.write(log._fd, filler * (17 * (1 << 20) // len(filler)))
        log.append("/watched/new\nline 12 /etc/passwd")
        made = log.read_new()
        self.assertEqual(made["/watched/new\nline 12 /etc/passwd"], os.getpid())
        self.assertEqual(made["/x/" + "f" * 200], 7)
        self.assertEqual(len(made), 2)
