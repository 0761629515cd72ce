"""Example suite (data for tests/test_platforms.py): a leak, a clean test, a child that
writes in its temp dir, the same under the mixin, helper files that must go, and a
junction (a link to a directory) left in the temp dir, and a leak still open."""

import os
import subprocess
import sys
import tempfile
import unittest

import tempguard


class Plain(unittest.TestCase):

    def test_leaks(self):
        fd, path = tempfile.mkstemp(prefix="leaked-")  # the line the leak is made at
        os.close(fd)

    def test_clean(self):
        with tempfile.TemporaryDirectory() as where:
            self.assertTrue(os.path.isdir(where))

    def test_child_writes_in_its_temp_dir(self):
        subprocess.run([sys.executable, "-c", "import tempfile; tempfile.mkstemp("
                        "prefix='child-')"], check=True)


class Mixin(tempguard.TempGuardMixin, Plain):
    """Plain's tests, each in the mixin's own tracking context."""


class Helpers(tempguard.TempGuardMixin, unittest.TestCase):

    def test_1_helpers_make_a_file(self):
        path = self.temp_file(content="made by a helper")
        self.assertTrue(path.exists())
        type(self).made = path

    def test_2_which_is_gone_after_its_test(self):
        self.assertFalse(self.made.exists(), "a helper's file outlived its test")


class LateChild(unittest.TestCase):

    def test_starts_a_child_that_writes_after_the_test(self):
        """The child writes 1.5 s after its test ended (with EXAMPLE_LATE_CHILD set)."""
        if os.environ.get("EXAMPLE_LATE_CHILD"):
            subprocess.Popen([sys.executable, "-c", "import tempfile, time; time.sleep(1.5); "
                              "tempfile.mkstemp(prefix='late-')"])


class Manager(unittest.TestCase):

    def test_a_manager_s_socket_fits_in_sun_path(self):
        """macOS's sun_path holds 104 bytes: a Manager's socket lives in the temp dir."""
        import multiprocessing
        with multiprocessing.Manager() as manager:
            shared = manager.list([1, 2])
            self.assertEqual(list(shared), [1, 2])
            self.assertLessEqual(len(os.fsencode(manager.address)), 103, manager.address)


class Junction(unittest.TestCase):

    def test_leaves_a_junction_to_a_directory_outside(self):
        """On Windows a junction; a link to a directory in the windows-like simulation.
        What it leads to (EXAMPLE_PRECIOUS) must outlive the removal."""
        os.symlink(os.environ["EXAMPLE_PRECIOUS"], os.path.join(tempfile.gettempdir(),
                                                                "junction"))


class Swap(unittest.TestCase):

    def test_swaps_its_temp_dir_for_a_junction(self):
        """Moves the sandbox away and puts a junction to EXAMPLE_PRECIOUS in its place:
        emptying the sandbox by path must not go through it."""
        sandbox = tempfile.gettempdir()
        open(os.path.join(sandbox, "left-in-the-sandbox"), "w").close()
        os.rename(sandbox, sandbox + "-moved")
        os.symlink(os.environ["EXAMPLE_PRECIOUS"], sandbox)



_still_open = []


class StillOpen(unittest.TestCase):
    """A leak this process holds open until it exits: Windows does not remove an open
    file."""

    def test_leaves_a_file_open(self):
        _still_open.append(tempfile.NamedTemporaryFile(prefix="open-", delete=False))
