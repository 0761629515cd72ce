"""Simulates CPython on macOS and the BSDs for tempguard's macos-like test leg: put this
folder first on PYTHONPATH, and run the process with /proc masked (an empty tmpfs
mounted over it in a private mount namespace: see tests/test_platforms.py).

Hidden here: memfd_create (from os and from ctypes); multiprocessing starts its
workers with spawn, macOS's default.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import hide_memfd  # noqa: E402

hide_memfd.hide()

import multiprocessing  # noqa: E402

try:
    multiprocessing.set_start_method("spawn")
except RuntimeError:
    pass
