"""Example suite (data for tests/test_runner.py): its import makes a dir in the temp dir
(through loading_support) and a file of its own; its tests write into the dir."""

import os
import tempfile
import unittest

from loading_support import OUTPUT

with open(os.path.join(tempfile.gettempdir(), "written_at_import"), "w") as _handle:
    _handle.write("made while the test module was imported")


class Writes(unittest.TestCase):

    def test_writes_into_the_dir_made_at_import(self):
        with open(os.path.join(OUTPUT, "output-1"), "w") as handle:
            handle.write("test output")
        self.assertTrue(os.path.isdir(OUTPUT))

    def test_reads_what_the_import_wrote(self):
        with open(os.path.join(tempfile.gettempdir(), "written_at_import")) as handle:
            self.assertEqual(handle.read(), "made while the test module was imported")


if __name__ == "__main__":
    unittest.main()
