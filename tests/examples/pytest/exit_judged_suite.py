"""A test whose file waits for interpreter exit (an atexit handler of the user's may remove
it), where nothing does: judged a leak at exit."""

import atexit
import os
import tempfile


def _forgets():
    pass


def test_hands_to_atexit():
    os.close(tempfile.mkstemp(prefix="atexit")[0])
    atexit.register(_forgets)


def test_other():
    pass
