"""Example suite (data for tests/test_hardening_state.py): tests that break their own process.

Each test is run alone by name, under the runner and under plain unittest;
the environment names the user's directory (USER_DIR) that must never change.
"""

import os
import socket
import stat
import tempfile
import time
import unittest

import tempguard


def take_over_descriptors():
    """What a daemonizing test does at its worst: close every fd above stdio, then open
    a directory of the user's and put it at every number that was open."""
    numbers = [int(name) for name in os.listdir("/proc/self/fd") if int(name) > 2]
    os.closerange(3, 1 << 20)
    user = os.open(os.environ["USER_DIR"], os.O_RDONLY | os.O_DIRECTORY)
    for number in numbers:
        if number != user:
            os.dup2(user, number)
    return user


class TakesOverDescriptors(unittest.TestCase):

    def test_takes_over_then_leaks(self):
        take_over_descriptors()
        tempfile.mkstemp(prefix="leaked-after-takeover-")
        with open(os.path.join(os.environ["USER_DIR"], "written-by-the-test"), "w") as handle:
            handle.write("the test's own file")


class MixinTakesOverDescriptors(tempguard.TempGuardMixin, unittest.TestCase):

    def test_takes_over_then_leaks(self):
        take_over_descriptors()
        tempfile.mkstemp(prefix="leaked-after-takeover-")


class MixinTakesOverAndWaits(tempguard.TempGuardMixin, unittest.TestCase):
    """Takes over the descriptors (and with them the run's lock), then lets another
    process look for orphans before it goes on."""

    def test_takes_over_then_waits(self):
        take_over_descriptors()
        with open(os.path.join(os.environ["WAIT_DIR"], "taken-over"), "w"):
            pass
        go = os.path.join(os.environ["WAIT_DIR"], "go")
        deadline = time.monotonic() + 60
        while not os.path.exists(go) and time.monotonic() < deadline:
            time.sleep(0.02)
        tempfile.mkstemp(prefix="leaked-after-the-wait-")


class Fails(unittest.TestCase):

    def test_fails_with_a_file(self):
        tempfile.mkstemp(prefix="evidence-")
        self.fail("fails on purpose, so that its files are kept")


class LeavesSpecialFiles(unittest.TestCase):
    """A failing test whose kept files would include device nodes, a FIFO and a socket."""

    def test_special_files_then_fail(self):
        where = tempfile.mkdtemp(prefix="unpacked-")
        with open(os.path.join(where, "evidence.txt"), "w") as handle:
            handle.write("evidence")
        os.mkfifo(os.path.join(where, "fifo"))
        server = socket.socket(socket.AF_UNIX)
        server.bind(os.path.join(where, "socket"))
        server.close()
        if os.geteuid() == 0:
            # /dev/zero would fill the disk, /dev/kmsg block a reader for ever.
            os.mknod(os.path.join(where, "zero"), stat.S_IFCHR | 0o600, os.makedev(1, 5))
            os.mknod(os.path.join(where, "kmsg"), stat.S_IFCHR | 0o600, os.makedev(1, 11))
        self.fail("fails on purpose, with special files in its temp dir")


class KeepsWhatCannotBeCopied(unittest.TestCase):

    def test_unreadable_dir_then_fail(self):
        where = tempfile.mkdtemp(prefix="evidence-")
        locked = os.path.join(where, "locked")
        os.mkdir(locked)
        with open(os.path.join(locked, "inside.txt"), "w") as handle:
            handle.write("only a move keeps this")
        os.chmod(locked, 0)
        tempfile.mkstemp(prefix="copied-")  # beside it, a leftover that is copied
        self.fail("fails on purpose, with an unreadable dir")

    def test_big_file_on_a_full_disk_then_fail(self):
        fd, path = tempfile.mkstemp(prefix="big-")
        with open(fd, "wb") as handle:
            handle.write(b"x" * int(os.environ.get("BIG_BYTES", "600000")))
        self.fail("fails on purpose, with a file bigger than the space left")


class ReplacesEnviron(unittest.TestCase):
    """sh's suite: os.environ becomes a plain dict, for good."""

    def setUp(self):
        self._environ = os.environ.copy()

    def tearDown(self):
        os.environ = self._environ

    def test_1_replaces(self):
        tempfile.mkstemp(prefix="leaked-with-a-dict-environ-")

    def test_2_after(self):
        self.assertIsInstance(os.environ, dict)
        fd, path = tempfile.mkstemp()
        os.close(fd)
        os.unlink(path)


class LinkedTempDir(unittest.TestCase):

    def test_leaks_in_a_linked_temp_dir(self):
        tempfile.mkstemp(prefix="leaked-in-linked-")


class MixinLinkedTempDir(tempguard.TempGuardMixin, unittest.TestCase):

    def test_leaks_in_a_linked_temp_dir(self):
        tempfile.mkstemp(prefix="leaked-in-linked-")
