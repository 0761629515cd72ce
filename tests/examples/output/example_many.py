"""Example suite (data for tests/test_output.py): one line makes EXAMPLE_COUNT files
(default 20,000) and forgets them all."""

import os
import tempfile
import unittest

COUNT = int(os.environ.get("EXAMPLE_COUNT", "20000"))


class Many(unittest.TestCase):

    def test_forgets_many(self):
        for _ in range(COUNT):
            os.close(tempfile.mkstemp(prefix="many")[0])


if __name__ == "__main__":
    unittest.main()
