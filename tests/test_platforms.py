"""Platforms we cannot run here, proven by simulation: Windows (the POSIX-only modules and
calls hidden, as tests/platforms/windows/sitecustomize.py does in a child's Python), and
macOS and the BSDs (/proc masked in a private mount namespace, memfd hidden, the spawn
start method, and a temp dir under a linked parent, as /var leads to /private/var).

What each platform can do is found in one place (tempguard.capabilities); on one
that cannot guard, every way in keeps unittest's and pytest's outcomes and says once
what is reduced, and an installed plugin changes nothing.
"""

import json
import os
import re
import shutil
import tempfile
import unittest

from tempguard import origins, sandbox
from tests import support

WINDOWS = os.path.join(support.PROJECT, "tests", "platforms", "windows")
MACOS = os.path.join(support.PROJECT, "tests", "platforms", "macos")
# Masks /proc with an empty tmpfs, then runs the rest of the command line. As on macOS,
# its sh is pid 1 of a new pid namespace and reaps orphans as launchd does: without
# /proc, a zombie nobody reaps cannot be told from a live process (this machine's pid 1
# reaps none). As on Windows, it shares this process's pids: a Windows process sees
# every other, and probes them (see capabilities.pid_exists).
_NO_PROC = {"macos": ["unshare", "--mount", "--pid", "--fork", "--propagation", "private"],
            "windows": ["unshare", "--mount", "--propagation", "private"]}
_MASK_PROC = ["sh", "-c", 'mount -t tmpfs none /proc && "$@"', "sh"]
SUITE = os.path.join(support.EXAMPLES, "platforms")
_REDUCED = "tempguard: this platform has no dir_fd, fork or /proc: "
_WINDOWS_TESTS = ["example_platforms.Plain", "example_platforms.Helpers"]
# Origins need audit hooks (3.8+); before, the section says they are unavailable.
_LEAK_LINE = ("made at example_platforms.py:17 in test_leaks" if origins.AVAILABLE
              else "(where each was made)")
_CHILD_HINT = (r"not seen being made in this process; it started python\S* -c import "
               r"tempfile; tempfile\.mkstemp\(prefix='child-'\) meanwhile" if origins.AVAILABLE
               else r"\n  unavailable on Python")


def windows_like(test, args, cwd=SUITE, env=None):
    """Run Python with *args* as on Windows (see the sitecustomize), /proc masked as
    Windows has none; (completed, TMPDIR)."""
    scratch = support.scratch_dir(test)
    child_env = {"TMPDIR": scratch, "PYTHONPATH": os.pathsep.join([WINDOWS, support.PROJECT])}
    child_env.update(env or {})
    return support.run_python(args, cwd=cwd, env=child_env, prefix=_no_proc(test, "windows")), scratch


def _without_note(text):
    return "".join(line for line in text.splitlines(True) if not line.startswith(_REDUCED))


def _masked(text):
    text = re.sub(r"in [\d.]+s", "in Ts", text)
    return re.sub(r"/\S*scratch-\w+", "TMPDIR", text)


def _unittest_part(stderr):
    """What unittest printed: up to its last line (OK or FAILED), the note left out."""
    text = _masked(_without_note(stderr))
    return re.split(r"(?m)^(?:OK|FAILED)\b.*$", text)[0]


class WindowsLikeTest(unittest.TestCase):
    """A guard by path: the sandbox, leaks and their origins, removal that never follows a
    junction, and one line that says what is reduced."""

    def test_the_simulation_hides_what_windows_lacks(self):
        probe = support.scratch_dir(self)
        os.mkdir(os.path.join(probe, "dir"))
        os.symlink("dir", os.path.join(probe, "junction"))
        completed, _ = windows_like(self, ["-c", "\n".join([
            "import importlib.util, json, os, signal, stat, sys",
            "print(json.dumps([sys.modules['fcntl'], hasattr(os, 'fork'),",
            "    hasattr(os, 'O_NOFOLLOW'), hasattr(os, 'O_CLOEXEC'), bool(os.supports_dir_fd),",
            "    os.listdir('/proc'), signal.CTRL_C_EVENT, sys.modules['_posixsubprocess'],",
            "    stat.S_ISDIR(os.lstat(sys.argv[1]).st_mode)]))"]),
            os.path.join(probe, "junction")])
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertEqual(json.loads(completed.stdout),
                         [None, False, False, False, False, [], 0, None, True])

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

    def test_the_runner_keeps_unittest_s_outcomes_reports_both_leaks_and_removes_them(self):
        plain, _ = windows_like(self, ["-m", "unittest", "-v"] + _WINDOWS_TESTS)
        report = os.path.join(support.scratch_dir(self), "report.json")
        guarded, scratch = windows_like(self, ["-m", "tempguard.runner", "-v"] + _WINDOWS_TESTS
                                        + ["--report", report])
        self.assertEqual(plain.returncode, 0, plain.stderr)
        self.assertEqual(guarded.returncode, 0, guarded.stderr)
        self.assertEqual(_unittest_part(guarded.stderr), _unittest_part(plain.stderr))
        self.assertEqual(guarded.stderr.count(_REDUCED), 1, guarded.stderr)
        self.assertIn(_LEAK_LINE, guarded.stderr)
        self.assertRegex(guarded.stderr, _CHILD_HINT)
        
        leaks = {test["id"].rsplit(".", 1)[1]: [os.path.basename(leak["path"])[:6]
                                                 for leak in test["leaks"]]
                 for test in support.load_json(report)["tests"] if test["leaks"]}
        self.assertEqual(leaks, {"test_leaks": ["leaked"],
                                 "test_child_writes_in_its_temp_dir": ["child-"]})
        self.assertEqual(os.listdir(scratch), [])

    def test_in_fail_mode_the_leaking_tests_fail_and_unittest_s_summary_stays(self):
        completed, scratch = windows_like(self, ["-m", "tempguard.runner"] + _WINDOWS_TESTS
                                          + ["--leaks", "fail", "--keep", "none"])
        self.assertEqual(completed.returncode, 1, completed.stderr)
        failed = sorted(name.rsplit(".", 1)[-1]
                        for name in re.findall(r"^FAIL: (\S+)", completed.stderr, re.M))
        self.assertEqual(failed, ["test_child_writes_in_its_temp_dir", "test_leaks"])
        self.assertRegex(completed.stderr, r"(?m)^FAILED \(failures=2\)$")
        self.assertEqual(os.listdir(scratch), [])

    def test_the_mixin_reports_both_leaks_and_its_helpers_clean_up(self):
        completed, scratch = windows_like(self, ["-m", "unittest", "example_platforms.Mixin",
                                                 "example_platforms.Helpers"])
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertRegex(completed.stderr, r"(?m)^Ran 5 tests")
        self.assertEqual(completed.stderr.count(_REDUCED), 1, completed.stderr)
        self.assertEqual(completed.stderr.count("TempLeakWarning"), 2, completed.stderr)
        if origins.AVAILABLE:  # the mixin's warnings have no line saying why not
            self.assertIn(_LEAK_LINE, completed.stderr)
            self.assertRegex(completed.stderr, _CHILD_HINT)
        self.assertEqual(os.listdir(scratch), [])

    def test_pytest_installed_changes_nothing_and_asked_guards(self):
        support.require("pytest")
        tests = ["example_platforms.py::Plain", "example_platforms.py::Helpers"]
        plain, _ = windows_like(self, ["-m", "pytest", "-p", "no:cacheprovider"] + tests)
        installed, _ = windows_like(self, ["-m", "pytest", "-p", "no:cacheprovider", "-p",
                                           "tempguard.pytest_plugin"] + tests)
        asked, scratch = windows_like(self, ["-m", "pytest", "-p", "no:cacheprovider", "-p",
                                             "tempguard.pytest_plugin", "--tempguard"] + tests)
        self.assertEqual(plain.returncode, 0, plain.stdout + plain.stderr)
        self.assertEqual(_masked(installed.stdout), _masked(plain.stdout))
        self.assertEqual((installed.returncode, installed.stderr), (0, plain.stderr))
        self.assertEqual(asked.returncode, 0, asked.stdout + asked.stderr)
        self.assertEqual(asked.stdout.count(_REDUCED), 1, asked.stdout)  # in its section
        self.assertRegex(asked.stdout, r"5 passed")
        section = asked.stdout[asked.stdout.index("leaked temporary files"):]
        self.assertIn(_LEAK_LINE, section)
        self.assertRegex(section, _CHILD_HINT)
        self.assertEqual(os.listdir(scratch), [])

    def test_a_baseline_gates_the_run_and_annotations_name_the_line(self):
        baseline = os.path.join(support.scratch_dir(self), "baseline.txt")
        written, _ = windows_like(self, ["-m", "tempguard.runner", "example_platforms.Plain",
                                         "--baseline", baseline, "--update-baseline"])
        self.assertEqual(written.returncode, 0, written.stderr)
        self.assertIn("written: 2 entries", written.stderr)
        gated, scratch = windows_like(self, ["-m", "tempguard.runner",
                                             "example_platforms.Plain", "--baseline", baseline,
                                             "--leaks", "fail"],
                                      env={"GITHUB_ACTIONS": "true"})
        self.assertEqual(gated.returncode, 0, gated.stderr)
        self.assertIn("2 leaked (2 files, 0 dirs), 2 of them in the baseline", gated.stderr)
        self.assertNotIn("::warning", gated.stdout + gated.stderr)  # known: not annotated
        fresh, _ = windows_like(self, ["-m", "tempguard.runner", "example_platforms.Plain"],
                                env={"GITHUB_ACTIONS": "true"})
        self.assertRegex(fresh.stdout + fresh.stderr,
                         r"::warning file=example_platforms\.py,line=17," if origins.AVAILABLE
                         else r"::warning title=tempguard")
        self.assertEqual(os.listdir(scratch), [])

    def test_a_junction_is_removed_as_a_link_and_what_it_leads_to_stays(self):
        precious = support.scratch_dir(self)
        with open(os.path.join(precious, "data.txt"), "w") as handle:
            handle.write("not tempguard's")
        os.mkdir(os.path.join(precious, "inner"))
        before = support.snapshot(precious)
        completed, scratch = windows_like(self, ["-m", "tempguard.runner",
                                                 "example_platforms.Junction"],
                                          env={"EXAMPLE_PRECIOUS": precious})
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertRegex(completed.stderr, r"\n  dir  \S+/junction\n")
        self.assertEqual(support.snapshot(precious), before)
        self.assertEqual(os.listdir(scratch), [])

    def test_kept_files_and_the_keep_dir_by_path_copy_a_junction_as_a_link(self):
        """Windows kept nothing: a copy by path had no way to tell a junction from a
        directory to copy. Now each entry is lstat-ed, and a junction copied as a link."""
        precious = support.scratch_dir(self)
        with open(os.path.join(precious, "data.txt"), "w") as handle:
            handle.write("not tempguard's")
        before = support.snapshot(precious)
        keep = os.path.join(support.scratch_dir(self), "keep")
        completed, scratch = windows_like(self, ["-m", "tempguard.runner", "--keep", "all",
                                                 "--keep-dir", keep, "example_platforms.Junction",
                                                 "example_platforms.Plain.test_leaks"],
                                          env={"EXAMPLE_PRECIOUS": precious})
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertEqual(support.snapshot(precious), before)
        self.assertEqual(os.listdir(scratch), [])
        manifest = support.load_json(os.path.join(keep, "manifest.json"))
        kept = {entry["test"].rsplit(".", 1)[1]: entry for entry in manifest["kept"]}
        self.assertEqual(sorted(kept), ["test_leaks", "test_leaves_a_junction_to_a_directory_"
                                                      "outside"])
        junction = os.path.join(keep, kept["test_leaves_a_junction_to_a_directory_outside"]["dir"],
                                "junction")
        self.assertEqual(os.readlink(junction), precious)
        (leaked,) = kept["test_leaks"]["paths"]
        self.assertRegex(leaked, r"/leaked-\w+$")
        self.assertEqual(manifest["not_kept"], [])

    def test_a_tree_helper_never_writes_through_a_junction(self):
        """lstat calls a junction a directory: the tree helper took one for the
        directory it was to make, and wrote through it into what it leads to."""
        precious = support.scratch_dir(self)
        before = support.snapshot(precious)
        completed, _ = windows_like(self, ["-c", "\n".join([
            "import os, sys, tempguard",
            "with tempguard.tracking() as context:",
            "    outer = context.directory()",
            "    os.symlink(sys.argv[1], str(outer / 'linked'))",
            "    try:",
            "        context.tree({'linked/evil.txt': 'x'}, root=outer)",
            "    except tempguard.UnsafePathError as error:",
            "        print('refused:', error)"]), precious])
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertIn("refused:", completed.stdout)
        self.assertEqual(support.snapshot(precious), before)

    def test_a_sandbox_swapped_for_a_junction_is_not_emptied_through_it(self):
        precious = support.scratch_dir(self)
        with open(os.path.join(precious, "data.txt"), "w") as handle:
            handle.write("not tempguard's")
        before = support.snapshot(precious)
        completed, scratch = windows_like(self, ["-m", "tempguard.runner",
                                                 "example_platforms.Swap"],
                                          env={"EXAMPLE_PRECIOUS": precious})
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertNotIn("Traceback", completed.stderr)
        self.assertIn("the sandbox was replaced", completed.stderr)
        self.assertEqual(support.snapshot(precious), before)
        self.assertEqual(os.listdir(scratch), [])

    def test_an_open_file_windows_will_not_remove_is_noted_and_left_for_the_next_run(self):
        """Windows refuses to remove an open file (the simulation refuses it too): that is
        in use, never an error; tried again when the run ends, then left for the next."""
        plain, _ = windows_like(self, ["-m", "unittest", "example_platforms.StillOpen"])
        report = os.path.join(support.scratch_dir(self), "report.json")
        completed, scratch = windows_like(self, ["-m", "tempguard.runner", "--report", report,
                                                 "example_platforms.StillOpen"])
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertEqual(_unittest_part(completed.stderr), _unittest_part(plain.stderr))
        self.assertNotIn("could not remove", completed.stderr)
        loaded = support.load_json(report)
        (test,) = loaded["tests"]
        (leak,) = test["leaks"]
        self.assertRegex(os.path.basename(leak["path"]), r"^open-")
        self.assertEqual(test["notes"], [leak["path"] + ": in use: a process has it open, and "
                         "Windows does not remove an open file; tried again when the run ends"])
        (root,) = os.listdir(scratch)
        (run,) = [entry for entry in loaded["fixtures"] if entry["id"] == "run"]
        self.assertEqual(run["notes"], [
            leak["path"] + ": still in use when the run ended (a process has it open): left "
            "in the run root %s, which the next run or the monitor removes"
            % os.path.join(scratch, root)])
        self.assertEqual(loaded["totals"]["cleanup_errors"], 0)
        self.assertEqual(sandbox.read_run_root(os.path.join(scratch, root)).state, "finished")
        later = support.run_python(["-m", "tempguard.runner", "example_platforms.Plain.test_clean"],
                                   cwd=SUITE, env={"TMPDIR": scratch})
        self.assertEqual(later.returncode, 0, later.stderr)
        self.assertEqual(os.listdir(scratch), [])

    def test_a_live_worker_s_root_keeps_its_run_from_pruning_without_flock(self):
        """Without flock a worker's held root looked dead: its parent's finished root,
        and the live worker's files with it, were pruned."""
        tmpdir = support.scratch_dir(self)
        parent = sandbox.RunRoot.create(tmpdir, "inv-workers")
        worker = sandbox.RunRoot.create(None, "inv-workers", inside=parent.held)
        self.addCleanup(worker.close, 0)
        in_use = os.path.join(worker.tmp, "in-use")
        open(in_use, "w").close()
        parent.leave()  # as its process ends: finished, while its worker (this one) runs
        completed, _ = windows_like(self, ["-c", "import sys; from tempguard import sandbox; "
                                                 "sandbox.prune_runs(sys.argv[1], 0)", tmpdir])
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertTrue(os.path.exists(in_use))

    def test_the_monitor_lists_cleans_only_when_told_and_report_shows_and_merges(self):
        report = os.path.join(support.scratch_dir(self), "report.json")
        run, _ = windows_like(self, ["-m", "tempguard.runner", "example_platforms.Plain",
                                     "--report", report])
        self.assertEqual(run.returncode, 0, run.stderr)
        shown, _ = windows_like(self, ["-m", "tempguard.report", "show", report])
        merged, _ = windows_like(self, ["-m", "tempguard.report", "merge", "-o",
                                        report + ".merged", report, report])
        for completed in (shown, merged):
            self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertIn(_LEAK_LINE, shown.stdout)
        self.assertIn("2 reports merged", merged.stdout)
        # Another run's root, live (its process runs), and an old file: listed; on Windows
        # kill(pid, 0) would send Ctrl-C, so liveness is never probed so (the simulation
        # fails loudly if it is), and a live-looking run is never removed.
        tmpdir = support.scratch_dir(self)
        live = support.make_run_root(tmpdir, "live")
        old = os.path.join(tmpdir, "old.tmp")
        with open(old, "w") as handle:
            handle.write("old")
        os.utime(old, (1, 1))
        env = {"TMPDIR": tmpdir}
        listed, _ = windows_like(self, ["-m", "tempguard.monitor", "--json"], env=env)
        self.assertEqual(listed.returncode, 0, listed.stderr)
        self.assertEqual(json.loads(listed.stdout)["directories"][0]["path"], tmpdir)
        clean = ["-m", "tempguard.monitor", tmpdir, "--clean", "--pattern", "*.tmp",
                 "--older-than", "1d", "--age-by", "mtime", "--yes"]
        refused, _ = windows_like(self, clean, env=env)
        self.assertEqual(refused.returncode, 1, refused.stdout + refused.stderr)
        self.assertIn("add --without-in-use-checks", refused.stdout)
        self.assertTrue(os.path.exists(old))
        forced, _ = windows_like(self, clean + ["--without-in-use-checks"], env=env)
        self.assertEqual(forced.returncode, 0, forced.stdout + forced.stderr)
        self.assertFalse(os.path.exists(old))
        orphans, _ = windows_like(self, ["-m", "tempguard.monitor", tmpdir, "--clean-orphans",
                                         "--yes", "--without-in-use-checks"], env=env)
        self.assertEqual(orphans.returncode, 0, orphans.stdout + orphans.stderr)
        self.assertTrue(os.path.isdir(live), orphans.stdout)


def _no_proc(test, platform):
    """The prefix that masks /proc: none where it is masked already (the simulated legs:
    a namespace in a namespace would give a child its parent's pid)."""
    if not support.HAS_PROC:
        return []
    if shutil.which("unshare") is None or (support.UIDS and os.geteuid() != 0):
        test.skipTest("masking /proc needs root and unshare (CI runs as root)")
    return _NO_PROC[platform] + _MASK_PROC


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
    child_env = {"TMPDIR": tmpdir, "PYTHONPATH": os.pathsep.join([MACOS, support.PROJECT])}
    child_env.update(env or {})
    return support.run_python(args, cwd=cwd, env=child_env, prefix=_no_proc(test, "macos"))


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

    def test_the_mixin_leaves_tempfile_as_it_found_it_without_memfd(self):
        """Without memfd the fork log's file was made in tempfile.gettempdir(), which
        keeps what it found in tempfile.tempdir: a later plain test saw it set."""
        tmpdir, _ = linked_tempdir(self)
        completed = macos_like(self, ["-m", "unittest", "-v", "example_nested"], tmpdir,
                               cwd=os.path.join(support.EXAMPLES, "mixin"),
                               env={"ORIGINAL_TMPDIR": tmpdir})
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertIn("test_tempfile_and_tmpdir_are_as_they_were", completed.stderr)

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
