"""Children that write temp files while later tests run: each file is their starter's."""

import os
import subprocess
import sys
import tempfile
import unittest

from children_support import start, write_now


class TestStarts(unittest.TestCase):

    def test_1_starts(self):
        TestStarts.child = start("late", 3)

    def test_2_innocent(self):
        write_now("late")

    def test_3_innocent_too(self):
        self.assertEqual(TestStarts.child.wait(), 0)


class TempdirUnchanged(unittest.TestCase):

    def test_starting_a_child_changes_nothing_here(self):
        before = (tempfile.gettempdir(), os.environ.get("TMPDIR"))
        child = subprocess.run(
            [sys.executable, "-c", "import tempfile; print(tempfile.gettempdir())"],
            stdout=subprocess.PIPE, universal_newlines=True, check=True)
        self.assertEqual((tempfile.gettempdir(), os.environ.get("TMPDIR")), before)
        self.assertTrue(os.path.isdir(child.stdout.strip()))

    def test_a_variable_set_with_putenv_alone_reaches_the_child(self):
        os.putenv("EXAMPLE_FRUIT", "apple")
        self.addCleanup(os.unsetenv, "EXAMPLE_FRUIT")
        child = subprocess.run(
            [sys.executable, "-c", "import os; print(os.getenv('EXAMPLE_FRUIT'))"],
            stdout=subprocess.PIPE, universal_newlines=True, check=True)
        self.assertEqual(child.stdout.strip(), "apple")

    def test_a_child_forked_while_stdin_is_closed(self):
        saved = os.dup(0)
        os.close(0)
        try:
            pid = os.fork()
            if pid == 0:
                os._exit(0)
            self.assertEqual(os.waitpid(pid, 0)[1], 0)
        finally:
            os.dup2(saved, 0)
            os.close(saved)


class ServerClass(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.server = start("server", 2)

    @classmethod
    def tearDownClass(cls):
        cls.server.wait()

    def test_innocent(self):
        write_now("server")


class Grandchild(unittest.TestCase):

    def test_1_starts(self):
        self.assertEqual(start("grand", 1, "--spawn").wait(), 0)

    def test_2_innocent(self):
        write_now("grand")


class Crowd(unittest.TestCase):
    """A grandchild still holds its starter's dir while more tests start children than
    are asked about at once (see tempguard.children): that dir must serve none of them."""

    def test_1_starts(self):
        self.assertEqual(start("crowd", 1, "--spawn").wait(), 0)

    def test_3_innocent(self):
        write_now("crowd")


def _starts_a_short_child(self):
    subprocess.run([sys.executable, "-c", "pass"], check=True)


for _number in range(20):
    setattr(Crowd, "test_2_%02d_starts_a_short_child" % _number, _starts_a_short_child)


class OwnTmpdir(unittest.TestCase):

    def test_1_starts(self):
        OwnTmpdir.child = start("own", 1, "--own-tmpdir")

    def test_2_innocent(self):
        write_now("own")
        self.assertEqual(OwnTmpdir.child.wait(), 0)


if __name__ == "__main__":
    unittest.main()
