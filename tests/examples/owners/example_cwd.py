"""A test moves into a temp dir and stays there; tearDownModule moves back and removes it."""

import os
import tempfile
import unittest

from owner_support import FORGET, remove

START = os.getcwd()


def tearDownModule():
    if not FORGET:
        os.chdir(START)
        remove(PLACE[0])


PLACE = []


class StaysInATempDir(unittest.TestCase):

    def test_1_moves_in(self):
        PLACE.append(tempfile.mkdtemp(suffix=".cwd"))
        os.chdir(PLACE[0])

    def test_2_works_there(self):
        with open("note.txt", "w") as handle:
            handle.write("still here")
        self.assertTrue(os.path.exists(os.path.join(PLACE[0], "note.txt")))


class ZLater(unittest.TestCase):

    def test_3_still_there(self):
        self.assertEqual(os.path.realpath(os.getcwd()), os.path.realpath(PLACE[0]))
