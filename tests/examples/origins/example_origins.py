"""Each test leaves entries made where a line marked "# origin: NAME" says."""

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import unittest

import origin_helpers


class Direct(unittest.TestCase):

    def test_mkstemp(self):
        os.close(tempfile.mkstemp()[0])  # origin: mkstemp

    def test_mkdtemp(self):
        tempfile.mkdtemp()  # origin: mkdtemp

    def test_named_temporary_file(self):
        tempfile.NamedTemporaryFile(delete=False).close()  # origin: named

    def test_open_in_a_watched_dir(self):
        path = os.path.join(os.environ["EXAMPLE_WATCHED"], "hard-coded")
        open(path, "w").close()  # origin: open

    def test_shutil_copy(self):
        shutil.copy(__file__, os.path.join(tempfile.gettempdir(), "copy.py"))  # origin: copy

    def test_thread(self):
        thread = threading.Thread(target=origin_helpers.make_in_thread)
        thread.start()
        thread.join()

    def test_helper(self):
        origin_helpers.make_copy()  # origin: helper_from_test

    def test_subprocess(self):
        subprocess.check_call([sys.executable, "-c",
                               "import tempfile; tempfile.mkstemp(prefix='child')"])


class InSetUp(unittest.TestCase):

    def setUp(self):
        self.path = origin_helpers.make_copy()  # origin: helper_from_setup

    def test_uses_it(self):
        self.assertTrue(os.path.exists(self.path))


class InSetUpDirectly(unittest.TestCase):

    def setUp(self):
        os.close(tempfile.mkstemp(prefix="setup")[0])  # origin: setup

    def test_nothing(self):
        pass


class InSetUpClass(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        os.close(tempfile.mkstemp(prefix="class")[0])  # origin: setup_class

    def test_nothing(self):
        pass


if __name__ == "__main__":
    unittest.main()
