"""Platforms we cannot run here, proven by simulation: Windows (the POSIX-only modules and
calls hidden, as tests/platforms/windows/sitecustomize.py does in a child's Python), and
macOS and the BSDs (/proc masked in a private mount namespace, memfd hidden, the spawn
start method, and a temp dir under a linked parent, as /var leads to /private/var).

What each platform can do is found in one place (tempguard.capabilities); on one
that cannot guard, every way in keeps unittest's and pytest's outcomes and says once
what is reduced, and an installed plugin changes nothing.
"""

import importlib.util
import json
import os
import re
import shutil
import tempfile
import unittest

from tests import support

WINDOWS = os.path.join(support.PROJECT, "tests", "platforms", "windows")
MACOS = os.path.join(support.PROJECT, "tests", "platforms", "macos")
# Masks /proc with an empty tmpfs, then runs the rest of the command line. Its sh is
# pid 1 of a new pid namespace and reaps orphans as launchd does: without /proc, a
# zombie nobody reaps cannot be told from a live process (this machine's pid 1 reaps
# none).
_NO_PROC = ["unshare", "--mount", "--pid", "--fork", "--propagation", "private", "sh", "-c",
            'mount -t tmpfs none /proc && "$@"', "sh"]
SUITE = os.path.join(support.EXAMPLES, "platforms")
_REDUCED = "tempguard: this platform lacks directory descriptors (dir_fd) and fork"
# What the windows-like runs run (Manager and LateChild are for macOS).
_WINDOWS_TESTS = ["example_platforms.Plain", "example_platforms.Helpers"]


def windows_like(test, args, cwd=SUITE, env=None):
    """Run Python with *args* as on Windows (see the sitecustomize); (completed, TMPDIR)."""
    scratch = support.scratch_dir(test)
    child_env = {"TMPDIR": scratch, "PYTHONPATH": os.pathsep.join([WINDOWS, support.PROJECT])}
    child_env.update(env or {})
    return support.run_python(args, cwd=cwd, env=child_env), scratch


def _without_note(text):
    return "".join(line for line in text.splitlines(True) if not line.startswith(_REDUCED))


def _masked(text):
    text = re.sub(r"in [\d.]+s", "in Ts", text)
    return re.sub(r"/\S*scratch-\w+", "TMPDIR", text)


class WindowsLikeTest(unittest.TestCase):

    def test_the_simulation_hides_what_windows_lacks(self):
        completed, _ = windows_like(self, ["-c", "import os, sys; print(json.dumps(["
                                              "'fcntl' in sys.modules and sys.modules['fcntl'],"
                                              "hasattr(os, 'fork'), hasattr(os, 'O_NOFOLLOW'),"
                                              "bool(os.supports_dir_fd)]))".replace(
                                                  "import os", "import json, os")])
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertEqual(json.loads(completed.stdout), [None, False, False, False])

    def test_every_module_imports(self):
        completed, _ = windows_like(self, ["-c", "\n".join([
            "import importlib, pkgutil, tempguard",
            "names = [m.name for m in pkgutil.iter_modules(tempguard.__path__)",
            "         if m.name != 'django']",
            "for name in names:",
            "    importlib.import_module('tempguard.' + name)",
            "print(len(names), tempguard.TempGuardMixin.__name__)"])])
        self.assertEqual(completed.returncode, 0, completed.stderr)
        count, mixin = completed.stdout.split()
        self.assertGreater(int(count), 40)
        self.assertEqual(mixin, "TempGuardMixin")

    def test_the_runner_keeps_unittest_s_outcomes_and_says_once_what_is_reduced(self):
        plain, _ = windows_like(self, ["-m", "unittest", "-v"] + _WINDOWS_TESTS)
        guarded, _ = windows_like(self, ["-m", "tempguard.runner", "-v"] + _WINDOWS_TESTS
                                  + ["--leaks", "fail"])
        self.assertEqual(plain.returncode, 0, plain.stderr)
        self.assertEqual(guarded.returncode, 0, guarded.stderr)
        # The mixin's Helpers say it under plain unittest too: once, either way.
        for completed in (plain, guarded):
            self.assertEqual(completed.stderr.count(_REDUCED), 1, completed.stderr)
        self.assertEqual(_masked(_without_note(guarded.stderr)),
                         _masked(_without_note(plain.stderr)))

    def test_the_mixin_s_helpers_still_clean_up(self):
        completed, scratch = windows_like(self, ["-m", "unittest", "example_platforms.Helpers"])
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertEqual(completed.stderr.count(_REDUCED), 1, completed.stderr)
        self.assertEqual(os.listdir(scratch), [])

    def test_an_installed_plugin_changes_no_pytest_run_and_says_once_when_asked(self):
        if importlib.util.find_spec("pytest") is None:
            self.skipTest("pytest is not installed for this Python (.ci/run installs it)")
        tests = ["example_platforms.py::Plain", "example_platforms.py::Helpers"]
        plain, _ = windows_like(self, ["-m", "pytest", "-p", "no:cacheprovider"] + tests)
        installed, _ = windows_like(self, ["-m", "pytest", "-p", "no:cacheprovider", "-p",
                                           "tempguard.pytest_plugin"] + tests)
        asked, _ = windows_like(self, ["-m", "pytest", "-p", "no:cacheprovider", "-p",
                                       "tempguard.pytest_plugin", "--tempguard"] + tests)
        self.assertEqual(plain.returncode, 0, plain.stdout + plain.stderr)
        self.assertEqual(_masked(installed.stdout), _masked(plain.stdout))
        self.assertEqual((installed.returncode, installed.stderr), (0, plain.stderr))
        self.assertEqual(asked.returncode, 0, asked.stdout + asked.stderr)
        self.assertEqual(asked.stderr.count(_REDUCED), 1, asked.stderr)
        self.assertRegex(asked.stdout, r"4 passed")

    def test_the_monitor_lists_and_report_shows_and_merges(self):
        report = os.path.join(support.scratch_dir(self), "report.json")
        run = support.run_python(["-m", "tempguard.runner", "example_platforms.Plain",
                                  "--report", report], cwd=SUITE,
                                 env={"TMPDIR": support.scratch_dir(self)})
        self.assertEqual(run.returncode, 0, run.stderr)
        shown, _ = windows_like(self, ["-m", "tempguard.report", "show", report])
        merged, _ = windows_like(self, ["-m", "tempguard.report", "merge", "-o",
                                        report + ".merged", report, report])
        listed, scratch = windows_like(self, ["-m", "tempguard.monitor", "--json"])
        for completed in (shown, merged, listed):
            self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertIn("example_platforms.Plain.test_leaks", shown.stdout)
        self.assertIn("2 reports merged", merged.stdout)
        self.assertEqual(json.loads(listed.stdout)["directories"][0]["path"], scratch)


def _require_namespaces(test):
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        test.skipTest("masking /proc needs root and unshare (CI runs as root)")


def linked_tempdir(test, length=None):
    """A temp dir reached through a linked parent (as /var -> /private/var), padded to
    *length* characters if given; (its path, where it really is)."""
    if length is None:
        base = support.scratch_dir(test)
    else:  # the real temp dir's path is the shortest at hand
        base = tempfile.mkdtemp(prefix="m-", dir=support.real_tempdir())
        test.addCleanup(support._remove, base)
        if len(os.path.join(base, "link", "tmp")) > length:
            test.skipTest("the temp dir %s is too long to reach %d characters" % (base, length))
    os.mkdir(os.path.join(base, "real"))
    os.symlink("real", os.path.join(base, "link"))
    name = "tmp"
    if length is not None:
        name += "-" * (length - len(os.path.join(base, "link", name)))
    os.mkdir(os.path.join(base, "real", name), 0o1777)
    return os.path.join(base, "link", name), os.path.join(base, "real", name)


def macos_like(test, args, tmpdir, cwd=SUITE, env=None):
    """Run Python with *args* as on macOS (see the module's docstring)."""
    _require_namespaces(test)
    child_env = {"TMPDIR": tmpdir, "PYTHONPATH": os.pathsep.join([MACOS, support.PROJECT])}
    child_env.update(env or {})
    return support.run_python(args, cwd=cwd, env=child_env, prefix=_NO_PROC)


class MacosLikeTest(unittest.TestCase):

    def test_the_simulation_has_no_proc_no_memfd_and_spawns(self):
        tmpdir, _ = linked_tempdir(self)
        completed = macos_like(self, ["-c", "import json, multiprocessing, os; print(json.dumps("
                                            "[os.listdir('/proc'), hasattr(os, 'memfd_create'),"
                                            " multiprocessing.get_start_method()]))"], tmpdir)
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertEqual(json.loads(completed.stdout), [[], False, "spawn"])

    def test_keep_dir_and_its_manifest_without_proc(self):
        tmpdir, _ = linked_tempdir(self)
        keep = os.path.join(support.scratch_dir(self), "keep")
        completed = macos_like(self, ["-m", "tempguard.runner", "example_platforms.Plain",
                                      "--keep", "all", "--keep-dir", keep], tmpdir)
        self.assertEqual(completed.returncode, 0, completed.stderr)
        manifest = support.load_json(os.path.join(keep, "manifest.json"))
        self.assertIn("example_platforms.Plain.test_leaks",
                      [entry["test"] for entry in manifest["kept"]])

    def test_a_child_that_writes_after_its_test_is_that_test_s_and_nothing_escapes(self):
        tmpdir, real = linked_tempdir(self)
        report = os.path.join(support.scratch_dir(self), "report.json")
        completed = macos_like(self, ["-m", "tempguard.runner", "example_platforms.LateChild",
                                      "--report", report], tmpdir,
                               env={"EXAMPLE_LATE_CHILD": "1"})
        self.assertEqual(completed.returncode, 0, completed.stderr)
        leaks = support.load_json(report)["tests"][0]["leaks"]
        self.assertEqual([os.path.basename(leak["path"])[:5] for leak in leaks], ["late-"])
        self.assertTrue(leaks[0]["origin"]["after_end"], leaks[0])
        self.assertFalse(os.path.lexists(leaks[0]["path"]))
        self.assertEqual(os.listdir(real), [])

    def test_a_temp_dir_under_a_linked_parent_gets_no_note(self):
        tmpdir, _ = linked_tempdir(self)
        completed = macos_like(self, ["-m", "tempguard.runner", "example_platforms.Plain"],
                               tmpdir)
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertNotIn("tempguard: notes", completed.stderr)
        self.assertNotIn("a link to", completed.stderr)

    def test_a_manager_works_under_a_48_character_temp_dir(self):
        tmpdir, _ = linked_tempdir(self, length=48)
        self.assertEqual(len(tmpdir), 48)
        completed = macos_like(self, ["-m", "tempguard.runner", "example_platforms.Manager"],
                               tmpdir)
        self.assertEqual(completed.returncode, 0, completed.stderr)

    def test_the_monitor_never_removes_what_it_cannot_check(self):
        tmpdir, real = linked_tempdir(self)
        old = os.path.join(real, "old.tmp")
        with open(old, "w") as handle:
            handle.write("held open by a live process")
            handle.flush()
            os.utime(old, (1, 1))
            args = ["-m", "tempguard.monitor", real, "--clean", "--pattern", "*.tmp",
                    "--older-than", "1d", "--age-by", "mtime", "--yes"]
            refused = macos_like(self, args, tmpdir)
            self.assertEqual(refused.returncode, 1, refused.stdout + refused.stderr)
            self.assertIn("add --without-in-use-checks", refused.stdout)
            self.assertTrue(os.path.exists(old))
        forced = macos_like(self, args + ["--without-in-use-checks"], tmpdir)
        self.assertEqual(forced.returncode, 0, forced.stdout + forced.stderr)
        self.assertFalse(os.path.exists(old))


if __name__ == "__main__":
    unittest.main()
