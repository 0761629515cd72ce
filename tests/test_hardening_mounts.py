"""Hardening: filesystems a test mounts inside its temp entries and never unmounts.

A bind mount of the same filesystem keeps st_dev, so only the mount id shows
that a directory is a mount point; cleanup that walked into one would empty
its source. Each run happens in a private mount namespace (root only), so
whatever a test leaves mounted goes with the namespace.
"""

import os
import shutil
import subprocess
import unittest

from tests import support

SUITE = os.path.join(support.EXAMPLES, "mounts")
MOUNTED_HERE = "another filesystem is mounted here"


def _source(test):
    source = support.scratch_dir(test)
    support.build_sentinel(source)
    os.mkdir(os.path.join(source, ".git"))
    with open(os.path.join(source, ".git", "HEAD"), "w") as handle:
        handle.write("ref: refs/heads/main\n")
    with open(os.path.join(source, "data.txt"), "w") as handle:
        handle.write("precious data")
    return source


class MountsTest(unittest.TestCase):
    """A bind mount, a tmpfs and a bind-mounted file, under every driver: the source stays
    byte-identical and the report names each mount point as left alone."""

    def setUp(self):
        # A bind mount keeps st_dev: only mount ids tell it. macOS has no bind mounts, and
        # a BSD nullfs mount has an st_dev of its own (docs/platforms.rst).
        support.needs_proc(self, "telling a bind mount of the same filesystem (mount ids)")
        if os.geteuid() != 0 or shutil.which("unshare") is None:
            self.skipTest("mounting in a private mount namespace needs root and unshare")
        probe = subprocess.run(["unshare", "--mount", "--propagation", "private", "true"],
                               stderr=subprocess.PIPE, universal_newlines=True)
        if probe.returncode != 0:
            self.skipTest("no private mount namespace here: %s" % probe.stderr.strip())
        self.source = _source(self)
        self.before = support.snapshot(self.source)

    def run_in_namespace(self, args):
        completed = support.run_python(
            args, cwd=SUITE, env={"TMPDIR": support.scratch_dir(self), "EXAMPLE_SOURCE": self.source},
            prefix=["unshare", "--mount", "--propagation", "private"])
        self.assertEqual(support.snapshot(self.source), self.before,
                         "a mount's source changed:\n" + completed.stderr)
        return completed

    def assert_left_alone(self, text, names):
        for name in names:
            self.assertRegex(text, r"/%s: %s" % (name, MOUNTED_HERE))

    def test_runner_leaves_every_mount_and_its_source_alone(self):
        report_path = os.path.join(support.scratch_dir(self), "report.json")
        completed = self.run_in_namespace(
            ["-m", "tempguard.runner", "example_mounts", "--report", report_path])
        report = support.load_json(report_path)
        self.assertEqual(completed.returncode, 0, completed.stderr)
        problems = "\n".join(problem for test in report["tests"]
                             for problem in test["cleanup_errors"])
        self.assert_left_alone(problems, [r"bound-\w+", "ram", r"deep-\w+", r"file-\w+", r"tempguard-[\w-]+"])

    def test_mixin_under_plain_unittest_leaves_the_mount_alone(self):
        completed = self.run_in_namespace(
            ["-m", "unittest", "example_mounts.MixinMounts"])
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assert_left_alone(completed.stderr, [r"tempguard-[\w-]+"])

    def test_pytest_plugin_leaves_every_mount_alone(self):
        completed = self.run_in_namespace(
            support.PYTEST + ["-p", "tempguard.pytest_plugin", "--tempguard",
                              "example_mounts.py"])
        self.assertEqual(completed.returncode, 0, completed.stdout + completed.stderr)
        self.assertIn("4 passed", completed.stdout)
        self.assert_left_alone(completed.stdout, [r"bound-\w+", "ram", r"deep-\w+", r"file-\w+"])


if __name__ == "__main__":
    unittest.main()
