"""Tests hand temp dirs to atexit handlers: by argument, and through a closure."""

import atexit
import tempfile
import time
import unittest

from owner_support import remove


class HandsToAtexit(unittest.TestCase):

    def test_by_argument(self):
        atexit.register(remove, tempfile.mkdtemp(suffix=".atexit-arg"))

    def test_by_closure(self):
        path = tempfile.mkdtemp(suffix=".atexit-closure")
        atexit.register(lambda: remove(path))

    def test_2_after(self):
        time.sleep(0.3)  # the run's time, which the supervisor prints for the test process
