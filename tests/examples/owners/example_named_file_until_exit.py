"""A NamedTemporaryFile kept alive until exit (it removes its file when collected, at
shutdown at the latest); forgetful: a mkstemp file kept by name the same way."""

import os
import tempfile
import types
import unittest

from owner_support import FORGET

KEPT = []


class KeepsItUntilExit(unittest.TestCase):

    def test_1_makes(self):
        if FORGET:
            fd, path = tempfile.mkstemp(suffix=".until-exit")
            os.close(fd)
            KEPT.append(types.SimpleNamespace(name=path))
        else:
            KEPT.append(tempfile.NamedTemporaryFile(suffix=".until-exit"))

    def test_2_writes_to_it_by_name(self):
        with open(KEPT[0].name, "w") as handle:
            handle.write("still there")
