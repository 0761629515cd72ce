"""Example suite (data for tests/test_hardening_swaps.py): tests that swap what tempguard
watches for links to a sentinel tree (SENTINEL), to steer a listing or a deletion there."""

import os
import shutil
import tempfile
import unittest

SENTINEL = os.environ["SENTINEL"]
ASIDE = os.environ["ASIDE"]


class Swaps(unittest.TestCase):

    def test_sandbox_after_writing_into_it(self):
        os.close(tempfile.mkstemp(suffix=".before-swap")[0])
        sandbox = tempfile.gettempdir()
        os.rename(sandbox, os.path.join(ASIDE, "sandbox"))
        os.symlink(SENTINEL, sandbox)

    def test_sandbox_before_writing_into_it(self):
        sandbox = tempfile.gettempdir()
        os.rename(sandbox, os.path.join(ASIDE, "sandbox"))
        os.symlink(SENTINEL, sandbox)
        with open(os.path.join(sandbox, "written-through-the-link"), "w") as handle:
            handle.write("the test's own doing")

    def test_run_root(self):
        os.close(tempfile.mkstemp(suffix=".in-root")[0])
        root = os.path.dirname(tempfile.gettempdir())
        os.rename(root, os.path.join(ASIDE, "root"))
        os.symlink(SENTINEL, root)

    def test_a_dir_it_made(self):
        made = tempfile.mkdtemp()
        with open(os.path.join(made, "inside"), "w") as handle:
            handle.write("x")
        shutil.rmtree(made)
        os.symlink(SENTINEL, made)


class WatchedSwap(unittest.TestCase):

    def test_1_swaps_the_watched_dir(self):
        watched = os.environ["WATCHED"]
        os.rename(watched, os.path.join(ASIDE, "watched"))
        os.symlink(SENTINEL, watched)

    def test_2_runs_after(self):
        pass


class KeepsThenFails(unittest.TestCase):

    def test_fails(self):
        os.close(tempfile.mkstemp(suffix=".kept")[0])
        self.fail("on purpose, so that its files are kept")
