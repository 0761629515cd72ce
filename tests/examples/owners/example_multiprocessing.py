"""multiprocessing's own temp dir: a Listener, then a Manager, then two forkserver pools.

Forgetful: a test also leaks a file of its own, which is still found.
"""

import multiprocessing
import os
import tempfile
import unittest
from multiprocessing.connection import Listener

from owner_support import FORGET


class MultiprocessingTempDir(unittest.TestCase):

    def test_1_listener(self):
        listener = Listener()
        listener.close()
        if FORGET:
            os.close(tempfile.mkstemp(suffix=".beside-multiprocessing")[0])

    def test_2_manager(self):
        with multiprocessing.Manager() as manager:
            self.assertEqual(dict(manager.dict(a=1)), {"a": 1})

    def test_3_forkserver_pool(self):
        with multiprocessing.get_context("forkserver").Pool(1) as pool:
            self.assertEqual(pool.map(abs, [-1, -2]), [1, 2])

    def test_4_forkserver_pool_again(self):
        with multiprocessing.get_context("forkserver").Pool(1) as pool:
            self.assertEqual(pool.map(abs, [-3]), [3])
