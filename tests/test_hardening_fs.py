"""Hardening, on the filesystem: hostile links, undeletable content, scale and a full disk.

Every case that depends on permissions or ownership runs as root and again as
an unprivileged user, since root ignores permission bits.
"""

import errno
import os
import shutil
import subprocess
import tempfile
import time
import unittest

import tempguard
from tests import support

HOSTILE = os.path.join(support.EXAMPLES, "hardening", "example_hostile.py")


def hostile_suite():
    with open(HOSTILE) as handle:
        return {"example_hostile.py": handle.read()}


# Runs in a child: a run whose failed test keeps links to a sentinel, then a
# run that prunes what was kept. Prints what it saw.
_LINKS_CHILD = """
import subprocess, support
from tempguard import sandbox
sentinel = support.build_sentinel(os.path.join(WORK, "sentinel"))
tmp = os.path.join(WORK, "tmp")
os.mkdir(tmp, 0o700)
before = support.snapshot(sentinel)

def run(test, *args):
    env = dict(os.environ, TMPDIR=tmp, SENTINEL=sentinel)
    return subprocess.run(
        [sys.executable, "-m", "tempguard.runner", "example_hostile.Links." + test] + list(args),
        cwd=WORK, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        universal_newlines=True)

first = run("test_links_then_fail", "--report", os.path.join(WORK, "first.json"))
entry = support.load_json(os.path.join(WORK, "first.json"))["tests"][0]
links_kept = 0
for dirpath, dirnames, filenames in os.walk(entry["kept"]):
    links_kept += sum(os.path.islink(os.path.join(dirpath, n)) for n in dirnames + filenames)
roots_after_first = len(sandbox.find_run_roots(tmp))
second = run("test_links_then_pass", "--keep-runs", "0",
             "--report", os.path.join(WORK, "second.json"))
print(json.dumps({
    "codes": [first.returncode, second.returncode], "stderr": first.stderr + second.stderr,
    "first": entry, "second": support.load_json(os.path.join(WORK, "second.json"))["tests"][0],
    "links_kept": links_kept, "roots_after_first": roots_after_first,
    "left": os.listdir(tmp), "sentinel_unchanged": before == support.snapshot(sentinel)}))
"""


class LinksTest(unittest.TestCase):
    """Links of every kind, in locked directories, in tracked trees, leaks and kept dirs."""

    def check_links_run(self, unprivileged):
        seen = support.run_child(self, _LINKS_CHILD, unprivileged, files=hostile_suite())
        self.assertEqual(seen["codes"], [1, 0], seen["stderr"])
        self.assertEqual(seen["first"]["outcome"], "failed")
        self.assertEqual(seen["first"]["cleanup_errors"], [])
        # Top-level links of the tracked dir and the leaked one; the locked dirs stay unread.
        self.assertGreaterEqual(seen["links_kept"], 10)
        self.assertEqual(seen["roots_after_first"], 1)
        self.assertEqual(seen["second"]["outcome"], "passed")
        self.assertEqual(seen["second"]["cleanup_errors"], [])
        self.assertEqual(len(seen["second"]["leaks"]), 1)
        self.assertEqual(seen["left"], [], "the second run should prune the first's kept files")
        self.assertTrue(seen["sentinel_unchanged"])

    def test_links_in_kept_and_cleaned_trees_as_root(self):
        self.check_links_run(unprivileged=False)

    def test_links_in_kept_and_cleaned_trees_as_unprivileged_user(self):
        self.check_links_run(unprivileged=True)


def _chattr(flag, path):
    """Set or clear a file attribute; False where chattr or the filesystem cannot."""
    if shutil.which("chattr") is None:
        return False
    return subprocess.run(["chattr", flag, path], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode == 0


class UndeletableTest(unittest.TestCase):
    """What truly cannot be removed: reported by path and reason, outcome unchanged,
    and cleaned by the next run once it can be."""

    def start_run(self, unprivileged):
        self.work, prefix, env = support.child_workspace(self, unprivileged, hostile_suite())
        self.tmp = os.path.join(self.work, "tmp")
        os.mkdir(self.tmp, 0o700)
        if unprivileged and os.geteuid() == 0:
            support.give_to_nobody(self.tmp)
        self.prefix = prefix
        self.env = dict(env, TMPDIR=self.tmp, HANDOFF=os.path.join(self.work, "handoff"))
        self.report = os.path.join(self.work, "report.json")
        child = subprocess.Popen(
            prefix + ["-m", "tempguard.runner", "--report", self.report,
                      "example_hostile.Undeletable.test_hands_its_dir_over_then_passes"],
            cwd=self.work, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            universal_newlines=True)
        self.addCleanup(child.kill)
        handoff = self.env["HANDOFF"]
        for _ in range(3000):
            if os.path.exists(handoff) or child.poll() is not None:
                break
            time.sleep(0.02)
        with open(handoff) as handle:
            return child, handle.read()

    def finish_run(self, child):
        open(self.env["HANDOFF"] + ".go", "w").close()
        _, err = child.communicate(timeout=120)
        self.assertEqual(child.returncode, 0, err)
        entry = support.load_json(self.report)["tests"][0]
        self.assertEqual(entry["outcome"], "passed")
        self.assertIn("could not remove", err)
        return entry

    def next_run_cleans(self, command):
        completed = subprocess.run(self.prefix + command, cwd=self.work, env=self.env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   universal_newlines=True, timeout=120)
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertEqual(os.listdir(self.tmp), [])

    @support.needs("uids")
    def test_immutable_file_as_root_then_next_run(self):
        if os.geteuid() != 0:
            self.skipTest("only root can make a file immutable (chattr +i)")
        child, leaked_dir = self.start_run(unprivileged=False)
        stuck = os.path.join(leaked_dir, "immutable")
        open(stuck, "w").close()
        if not _chattr("+i", stuck):
            child.kill()
            self.skipTest("chattr +i is not supported on this filesystem")
        self.addCleanup(_chattr, "-i", stuck)
        entry = self.finish_run(child)
        self.assertTrue(any(stuck in problem and "Operation not permitted" in problem
                            for problem in entry["cleanup_errors"]), entry["cleanup_errors"])
        self.assertTrue(os.path.exists(stuck))
        _chattr("-i", stuck)
        self.next_run_cleans(["-m", "tempguard.runner", "example_hostile.Plain"])

    @support.needs("uids")
    def test_content_of_another_user_as_unprivileged_user_then_monitor(self):
        if os.geteuid() != 0:
            self.skipTest("needs root to put another user's files in the run's sandbox")
        child, leaked_dir = self.start_run(unprivileged=True)
        foreign = os.path.join(leaked_dir, "root-owned")
        os.mkdir(foreign, 0o755)
        open(os.path.join(foreign, "file"), "w").close()
        entry = self.finish_run(child)
        self.assertTrue(any(os.path.join(foreign, "file") in problem
                            and "Permission denied" in problem
                            for problem in entry["cleanup_errors"]), entry["cleanup_errors"])
        self.assertTrue(os.path.exists(os.path.join(foreign, "file")))
        # Once it is the user's own again, the monitor removes the orphaned run root.
        support.give_to_nobody(foreign)
        self.next_run_cleans(["-m", "tempguard.monitor", "--clean-orphans", "--yes", self.tmp])


class ScaleTest(unittest.TestCase):
    """The biggest shapes people make: a 1 GiB sparse file (the other shapes are in test_cleanup)."""

    def test_sparse_gibibyte_file_is_counted_and_removed(self):
        with tempguard.tracking() as context:
            path = context.file()
            os.truncate(str(path), 1 << 30)
            removed = context.cleanup()
        self.assertFalse(path.exists())
        self.assertEqual((removed.files, removed.bytes, removed.problems), (1, 1 << 30, []))


class MountTest(unittest.TestCase):

    def test_a_filesystem_mounted_inside_a_tracked_tree_is_left_alone(self):
        with tempguard.tracking() as context:
            tree = context.tree({"before.txt": "x", "mnt/": None, "after/file": "y"})
            mount_point = str(tree / "mnt")
            support.mount_tmpfs(self, mount_point)
            with open(os.path.join(mount_point, "on-the-mount"), "w") as handle:
                handle.write("not ours")
            removed = context.cleanup()
            self.assertEqual([(problem.path, problem.reason) for problem in removed.problems],
                             [(mount_point, "another filesystem is mounted here; left alone")])
            self.assertEqual(os.listdir(mount_point), ["on-the-mount"])
            self.assertEqual(sorted(os.listdir(str(tree))), ["mnt"])
            subprocess.run(["umount", mount_point], check=True)
            context.register(str(tree))


# Runs in a child with TMPDIR on a 1 MiB tmpfs: fill it, then let go.
_DISK_FULL_CHILD = """
import tempguard
made, failures = [], []
with tempguard.tracking() as context:
    for _ in range(100):
        try:
            made.append(str(context.file(b"x" * 65536)))
        except OSError as problem:
            failures.append(problem.errno)
            break
    try:
        context.tree({"a/b.bin": b"y" * (1 << 20)})
    except OSError as problem:
        failures.append(problem.errno)
    try:
        context.directory()
        context.file(b"z")
    except OSError as problem:
        failures.append(problem.errno)
print(json.dumps({"made": len(made), "failures": failures,
                  "left": os.listdir(os.environ["TMPDIR"])}))
"""


class DiskFullTest(unittest.TestCase):

    def test_full_disk_raises_oserror_and_everything_made_is_cleaned(self):
        mount_point = tempfile.mkdtemp(prefix="tmpfs-")
        self.addCleanup(support._remove, mount_point)
        support.mount_tmpfs(self, mount_point)
        seen = support.run_child(self, _DISK_FULL_CHILD, unprivileged=False,
                                 env={"TMPDIR": mount_point})
        self.assertEqual(seen["failures"][:2], [errno.ENOSPC, errno.ENOSPC])
        self.assertGreater(seen["made"], 5)
        self.assertEqual(seen["left"], [])
        self.assertEqual(os.listdir(mount_point), [])


if __name__ == "__main__":
    unittest.main()
