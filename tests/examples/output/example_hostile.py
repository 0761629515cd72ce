"""Example suite (data for tests/test_output.py): leaks whose names would break or forge
tempguard's lines, or recolour a terminal, or are not UTF-8; under the runner and, as a
mixin's warning, under plain unittest."""

import os
import tempfile
import unittest

import tempguard

NAMES = [
    "x\nline-FORGED tempguard: 0 created, 0 cleaned, 0 leaked",
    "esc\x1b[31mred\x1b[0m",
    os.fsdecode(b"not-utf8-\xff\xfe"),
]


def _leave_all():
    for name in NAMES:
        open(os.path.join(tempfile.gettempdir(), name), "w").close()


class Hostile(unittest.TestCase):

    def test_leaves_hostile_names(self):
        _leave_all()


class HostileMixin(tempguard.TempGuardMixin, unittest.TestCase):

    def test_leaves_hostile_names_under_the_mixin(self):
        _leave_all()


if __name__ == "__main__":
    unittest.main()
