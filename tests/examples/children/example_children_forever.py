"""A child that is still running, and holds its file, when the run ends."""

import unittest

from children_support import start, wait_for


class Forever(unittest.TestCase):

    def test_starts(self):
        Forever.child = start("forever", 1, "--forever")
        wait_for("forever")


if __name__ == "__main__":
    unittest.main()
