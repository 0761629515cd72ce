"""Example suite (data for tests/test_runner.py): a file object lost in a reference
cycle, with automatic collection off, is finalized (and its ResourceWarning printed)
only when the later test collects: tempguard must not collect it while it judges the
earlier test's leak."""

import gc
import os
import tempfile
import unittest

gc.disable()  # only Later's collection may finalize the cycle


class Earlier(unittest.TestCase):

    def test_loses_a_file_in_a_cycle_and_leaks(self):
        handle = open(os.path.join(tempfile.gettempdir(), "in-a-cycle"), "w")
        cycle = [handle]
        cycle.append(cycle)
        os.close(tempfile.mkstemp(prefix="leaked")[0])  # judged when its class ends


class Later(unittest.TestCase):

    def test_collects(self):
        gc.collect()
        gc.enable()
