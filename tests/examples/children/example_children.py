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


class OwnTmpdir(unittest.TestCase):

    def test_1_starts(self):
        OwnTmpdir.child = start("own", 1, "--own-tmpdir")

    def test_2_innocent(self):
        write_now("own")
        self.assertEqual(OwnTmpdir.child.wait(), 0)


if __name__ == "__main__":
    unittest.main()
