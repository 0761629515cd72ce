"""Example suite (data for tests/test_evidence.py): a test that reads what a test of
another class left in the temp dir (dulwich's AddTests do this). Under unittest it
passes; the earlier test's file is still a leak, blamed on the earlier test."""

import os
import tempfile
import unittest


class A(unittest.TestCase):

    def test_leaves_a_file(self):
        with open(os.path.join(tempfile.gettempdir(), "left-for-later"), "w") as handle:
            handle.write("left by A")


class B(unittest.TestCase):

    def test_reads_it(self):
        with open(os.path.join(tempfile.gettempdir(), "left-for-later")) as handle:
            self.assertEqual(handle.read(), "left by A")
