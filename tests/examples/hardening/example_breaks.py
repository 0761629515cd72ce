"""Example suite (data for tests/test_hardening_state.py): tests that break their own process.

Each test is run alone by name, under the runner and under plain unittest;
the environment names the user's directory (USER_DIR) that must never change.
"""

import atexit
import errno
import os
import resource
import shutil
import socket
import stat
import tempfile
import time
import unittest

import tempguard
import tempguard.sandbox
from support import open_fds  # tests/support.py, copied beside it (see child_workspace)


def take_over_descriptors():
    """What a daemonizing test does at its worst: close every fd above stdio, then open
    a directory of the user's and put it at every number that was open."""
    numbers = [number for number in open_fds() if number > 2]
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

    def test_unreadable_dir_beside_special_files_then_fail(self):
        where = tempfile.mkdtemp(prefix="moved-")
        os.mkdir(os.path.join(where, "locked"))
        os.chmod(os.path.join(where, "locked"), 0)
        os.mkfifo(os.path.join(where, "fifo"))
        if os.geteuid() == 0:
            os.mknod(os.path.join(where, "zero"), stat.S_IFCHR | 0o600, os.makedev(1, 5))
        self.fail("fails on purpose: a move keeps the dir, never its special files")

    def test_big_file_on_a_full_disk_then_fail(self):
        fd, path = tempfile.mkstemp(prefix="big-")
        with open(fd, "wb") as handle:
            handle.write(b"x" * int(os.environ.get("BIG_BYTES", "600000")))
        self.fail("fails on purpose, with a file bigger than the space left")


class KeepsDeepAndLongNamed(unittest.TestCase):
    """What shutil.copytree's recursion and a 150-character cut could not keep."""

    def test_tree_deeper_than_recursion_then_pass(self):
        where = tempfile.mkdtemp(prefix="deep-")
        fd = os.open(where, os.O_RDONLY)
        for _ in range(1200):
            os.mkdir("d", dir_fd=fd)
            inner = os.open("d", os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = inner
        with open(os.open("bottom.txt", os.O_WRONLY | os.O_CREAT, 0o600, dir_fd=fd),
                  "w") as handle:
            handle.write("at the bottom")
        os.close(fd)

    def test_非常长的名字非常长的名字非常长的名字非常长的名字非常长的名字非常长的名字非常长的名字非常长的名字非常长的名字非常长的名字非常长的名字非常长的名字(self):
        fd, path = tempfile.mkstemp(prefix="long-name-")
        os.close(fd)
        self.fail("fails on purpose, with a long non-ASCII name")


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


class BreaksTheHandOff(unittest.TestCase):
    """Each test (run alone) breaks what a hand-off through the run root needed, while
    a temp file is owned until exit (so that in fail mode unittest's closing lines
    wait for the supervisor). Its owner needs no descriptor to remove it."""

    def setUp(self):
        fd, path = tempfile.mkstemp(prefix="owned-until-exit-")
        os.close(fd)
        atexit.register(_remove, path)

    def test_removes_the_run_root(self):
        root = os.path.dirname(tempfile.gettempdir())
        if tempguard.sandbox.is_run_root_name(os.path.basename(root)):
            shutil.rmtree(root)

    def test_leaves_umask_777(self):
        os.umask(0o777)
        os.rmdir(tempfile.mkdtemp(prefix="made-under-umask-777-"))

    def test_leaves_umask_777_then_fails(self):
        os.umask(0o777)
        fd, path = tempfile.mkstemp(prefix="evidence-under-umask-777-")
        os.write(fd, b"what the failure needs")
        os.close(fd)
        self.fail("fails on purpose, so that its files (mode 000) are kept")

    def test_exhausts_the_fd_limit(self):
        _exhaust_fds()

    def test_closes_every_fd_above_stdio(self):
        os.closerange(3, 1 << 20)

    def test_closes_every_fd_then_exhausts_the_limit(self):
        os.closerange(3, 1 << 20)
        _exhaust_fds()

    def test_fills_the_disk(self):
        """Run it only in a small tmpfs: it writes up to 8 MiB, until the disk is full."""
        fd, path = tempfile.mkstemp(prefix="filler-")
        atexit.register(os.unlink, path)  # the disk stays full until exit
        try:
            with self.assertRaises(OSError) as raised:
                for _ in range(128):
                    os.write(fd, b"x" * 65536)
            self.assertEqual(raised.exception.errno, errno.ENOSPC)
        finally:
            os.close(fd)


def _remove(path):
    """An exit handler that needs no descriptor, and minds no test that removed it."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


_TAKEN = []


def _exhaust_fds(hard=False):
    """Lower the fd limit (the *hard* one too) and take every descriptor left; they
    stay open until exit."""
    limit = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (128, 128 if hard else limit))
    try:
        while True:
            _TAKEN.append(os.open(os.devnull, os.O_RDONLY))
    except OSError as error:
        assert error.errno == errno.EMFILE, error


class LeaksManyThenWaits(unittest.TestCase):
    """Leaves LEAKS files, says so in READY, then waits to be interrupted."""

    def test_leaks_many_then_waits(self):
        for _ in range(int(os.environ.get("LEAKS", "3000"))):
            os.close(tempfile.mkstemp(prefix="many-")[0])
        with open(os.environ["READY"], "w"):
            pass
        for _ in range(600):
            time.sleep(0.05)


class MixinExhaustsTheFdLimit(tempguard.TempGuardMixin, unittest.TestCase):
    """Run alone: the fd limit stays exhausted until exit, when the mixin's session ends."""

    def test_soft_limit(self):
        _exhaust_fds()

    def test_hard_limit(self):
        _exhaust_fds(hard=True)
