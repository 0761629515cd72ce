"""A test that swaps the --keep-dir for a link to elsewhere, then fails with a leak:
nothing may be kept where the link leads."""

import os
import tempfile
import unittest


class Swapper(unittest.TestCase):

    def test_swaps_the_keep_dir_and_fails(self):
        keep_dir = os.environ["EXAMPLE_KEEP_DIR"]
        os.rename(keep_dir, keep_dir + ".moved")
        os.symlink(os.environ["EXAMPLE_ELSEWHERE"], keep_dir)
        fd, _path = tempfile.mkstemp(suffix=".swap")
        os.close(fd)
        self.fail("on purpose")
