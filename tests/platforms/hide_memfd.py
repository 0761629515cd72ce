"""memfd_create hidden from os and from ctypes, as on every platform but Linux: for the
windows-like and macos-like simulations' sitecustomize."""

import os


def hide():
    for name in ("memfd_create", "MFD_CLOEXEC"):
        if hasattr(os, name):
            delattr(os, name)
    try:
        import ctypes
    except ImportError:
        return

    class _NoMemfd(ctypes.CDLL):
        def __getattr__(self, name):
            if name == "memfd_create":
                raise AttributeError(name)
            return super().__getattr__(name)

    ctypes.CDLL = _NoMemfd
