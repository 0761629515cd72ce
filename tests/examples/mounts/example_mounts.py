"""Tests that mount over their temp entries and never unmount (run as root, in a private
mount namespace): SOURCE's contents must survive every cleanup."""

import os
import subprocess
import tempfile
import unittest

import tempguard

SOURCE = os.environ["EXAMPLE_SOURCE"]


def mount(*args):
    subprocess.run(["mount"] + list(args), check=True)


class Mounts(unittest.TestCase):
    def test_bind_mount_over_a_temp_dir(self):
        mount("--bind", SOURCE, tempfile.mkdtemp(prefix="bound-"))

    def test_tmpfs_inside_a_temp_tree(self):
        top = tempfile.mkdtemp(prefix="tree-")
        os.mkdir(os.path.join(top, "ram"))
        mount("-t", "tmpfs", "-o", "size=1m", "tmpfs", os.path.join(top, "ram"))
        with open(os.path.join(top, "ram", "file"), "w") as handle:
            handle.write("on tmpfs")
        mount("--bind", SOURCE, tempfile.mkdtemp(prefix="deep-", dir=top))

    def test_bind_mounted_file(self):
        fd, path = tempfile.mkstemp(prefix="file-")
        os.close(fd)
        mount("--bind", os.path.join(SOURCE, "data.txt"), path)


class MixinMounts(tempguard.TempGuardMixin, unittest.TestCase):
    def test_bind_mount_in_a_helper_dir(self):
        mount("--bind", SOURCE, str(self.temp_dir()))
