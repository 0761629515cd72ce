"""A test that holds a temp file while other workers' tests leak."""

import tempfile
import unittest

import planted_log
import tempguard


class Holder(tempguard.TempGuardMixin, unittest.TestCase):

    def test_holds_a_file(self):
        with tempfile.NamedTemporaryFile(prefix="planted-held-") as handle:
            handle.write(b"still mine")
            handle.flush()
            planted_log.note(self.id() + ":start", pause=False)
            planted_log.hold()
            with open(handle.name, "rb") as again:
                self.assertEqual(again.read(), b"still mine")
            planted_log.note(self.id() + ":end", pause=False)
