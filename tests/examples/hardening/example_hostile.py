"""Example suite (data for tests/test_hardening_*.py): tests that attack the runner.

Each test is run alone by name; the environment tells it where the sentinel,
the hand-off files and the barrier are.
"""

import atexit
import os
import sys
import tempfile
import time
import unittest

import tempguard


def plant_links(where, sentinel):
    """Every kind of link to the sentinel, a loop, and locked directories holding links."""
    os.symlink(sentinel, os.path.join(where, "abs-dir"))
    os.symlink(os.path.relpath(sentinel, where), os.path.join(where, "rel-dir"))
    os.symlink(os.path.join(sentinel, "keep.txt"), os.path.join(where, "abs-file"))
    os.symlink("missing", os.path.join(where, "dangling"))
    os.symlink("loop", os.path.join(where, "loop"))
    locked = os.path.join(where, "locked")
    os.mkdir(locked)
    os.symlink(sentinel, os.path.join(locked, "abs-dir"))
    os.symlink(os.path.join(sentinel, "sub"), os.path.join(locked, "sub-dir"))
    os.chmod(locked, 0)
    no_exec = os.path.join(where, "no-exec")
    os.mkdir(no_exec)
    os.symlink(sentinel, os.path.join(no_exec, "abs-dir"))
    os.chmod(no_exec, 0o600)
    read_only = os.path.join(where, "read-only")
    os.mkdir(read_only)
    with open(os.path.join(read_only, "file"), "w") as handle:
        handle.write("x")
    os.chmod(os.path.join(read_only, "file"), 0o400)
    os.chmod(read_only, 0o500)


def wait_for(path, seconds=60):
    deadline = time.monotonic() + seconds
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise AssertionError("gave up waiting for %s" % path)
        time.sleep(0.02)


class Plain(unittest.TestCase):

    def test_nothing(self):
        self.assertTrue(True)


class Links(unittest.TestCase):

    def test_links_then_fail(self):
        sentinel = os.environ["SENTINEL"]
        plant_links(tempfile.mkdtemp(), sentinel)
        plant_links(str(tempguard.create_temp_directory()), sentinel)
        self.fail("fails on purpose, so that its files are kept")

    def test_links_then_pass(self):
        sentinel = os.environ["SENTINEL"]
        plant_links(tempfile.mkdtemp(), sentinel)
        plant_links(str(tempguard.create_temp_directory()), sentinel)


class Undeletable(unittest.TestCase):

    def test_hands_its_dir_over_then_passes(self):
        # The parent makes something in here that this process cannot remove.
        handoff = os.environ["HANDOFF"]
        with open(handoff + ".new", "w") as handle:
            handle.write(tempfile.mkdtemp())
        os.rename(handoff + ".new", handoff)
        wait_for(handoff + ".go")


class Crashes(unittest.TestCase):

    def setUp(self):
        self.tracked = tempguard.create_temp_file("tracked")
        handle, self.sandboxed = tempfile.mkstemp()
        os.close(handle)

    def test_os_exit(self):
        os._exit(3)

    def test_sys_exit(self):
        sys.exit(4)

    def test_forked_child_runs_its_exit_handlers(self):
        pid = os.fork()
        if pid == 0:
            try:
                atexit._run_exitfuncs()
                tempguard.cleanup_all()
            finally:
                os._exit(0)
        _, status = os.waitpid(pid, 0)
        self.assertEqual(status, 0)
        self.assertTrue(self.tracked.exists())
        self.assertTrue(os.path.exists(self.sandboxed))

    def test_forked_child_is_terminated(self):
        import signal
        pid = os.fork()
        if pid == 0:
            try:
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(10)
            finally:
                os._exit(7)
        _, status = os.waitpid(pid, 0)
        self.assertTrue(os.WIFSIGNALED(status), status)
        self.assertEqual(os.WTERMSIG(status), signal.SIGTERM)
        self.assertTrue(self.tracked.exists())
        self.assertTrue(os.path.exists(self.sandboxed))


class Concurrent(unittest.TestCase):

    def test_meets_the_other_run(self):
        """Both runs are live at once; each still finds its own files afterwards."""
        mine = tempguard.create_temp_file("mine")
        handle, leaked = tempfile.mkstemp(suffix=".leak-%s" % os.environ["RUN_TAG"])
        os.close(handle)
        barrier = os.environ["BARRIER"]
        open(os.path.join(barrier, str(os.getpid())), "w").close()
        deadline = time.monotonic() + 60
        while len(os.listdir(barrier)) < 2:
            self.assertLess(time.monotonic(), deadline, "the other run never came")
            time.sleep(0.02)
        time.sleep(0.3)
        self.assertTrue(mine.exists())
        self.assertTrue(os.path.exists(leaked))

    def test_fails_and_keeps(self):
        tempguard.create_temp_file("kept by %d" % os.getpid())
        self.fail("fails on purpose")
