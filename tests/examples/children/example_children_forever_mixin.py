"""Under the mixin and plain unittest: a child still running when the process exits."""

import unittest

import tempguard
from children_support import start, wait_for


class ForeverMixin(tempguard.TempGuardMixin, unittest.TestCase):

    def test_starts(self):
        ForeverMixin.child = start("forever", 1, "--forever")
        wait_for("forever")


if __name__ == "__main__":
    unittest.main()
