"""Simulates CPython on macOS and the BSDs for tempguard's macos-like test leg: put this
folder first on PYTHONPATH, and run the process with /proc masked (an empty tmpfs
mounted over it in a private mount namespace: see tests/test_platforms.py).

Hidden here: memfd_create (from os and from ctypes); multiprocessing starts its
workers with spawn, macOS's default.
"""

import os

for _name in ("memfd_create", "MFD_CLOEXEC"):
    if hasattr(os, _name):
        delattr(os, _name)

try:
    import ctypes
except ImportError:
    pass
else:
    class _NoMemfd(ctypes.CDLL):
        def __getattr__(self, name):
            if name == "memfd_create":
                raise AttributeError(name)
            return super().__getattr__(name)

    ctypes.CDLL = _NoMemfd

import multiprocessing  # noqa: E402

try:
    multiprocessing.set_start_method("spawn")
except RuntimeError:
    pass
