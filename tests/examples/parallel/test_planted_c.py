"""A test that holds a temp file for a second while other workers' tests leak."""

import tempfile
import time
import unittest

import tempguard


class Holder(tempguard.TempGuardMixin, unittest.TestCase):

    def test_holds_a_file(self):
        with tempfile.NamedTemporaryFile(prefix="planted-held-") as handle:
            handle.write(b"still mine")
            handle.flush()
            time.sleep(1.0)
            with open(handle.name, "rb") as again:
                self.assertEqual(again.read(), b"still mine")
