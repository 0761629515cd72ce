"""A test hands its temp dir to tearDownModule."""

import tempfile
import unittest

from owner_support import remove

MADE = []


def tearDownModule():
    for path in MADE:
        remove(path)


class A(unittest.TestCase):

    def test_makes(self):
        MADE.append(tempfile.mkdtemp(suffix=".module-teardown"))


class B(unittest.TestCase):

    def test_sees_it(self):
        self.assertEqual(len(MADE), 1)
