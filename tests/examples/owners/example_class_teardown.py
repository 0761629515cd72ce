"""A test hands its temp dir to tearDownClass."""

import tempfile
import unittest

from owner_support import remove


class HandsToTearDownClass(unittest.TestCase):
    made = []

    @classmethod
    def tearDownClass(cls):
        for path in cls.made:
            remove(path)

    def test_1_makes(self):
        self.made.append(tempfile.mkdtemp(suffix=".class-teardown"))

    def test_2_last(self):
        self.assertEqual(len(self.made), 1)
