"""Example suite (data for tests/test_runner.py): every way unittest skips."""

import unittest


class Runs(unittest.TestCase):

    def test_passes(self):
        pass

    @unittest.skip("decorated")
    def test_decorated(self):
        pass

    def test_skips_itself(self):
        self.skipTest("at run time")

    def test_skips_subtests(self):
        for number in range(3):
            with self.subTest(number=number):
                if number:
                    self.skipTest("subtest %d" % number)


@unittest.skip("the whole class")
class SkippedClass(unittest.TestCase):

    def test_one(self):
        pass

    def test_two(self):
        pass


class SkippedInSetUpClass(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        raise unittest.SkipTest("from setUpClass")

    def test_never_runs(self):
        pass
