"""Example suite (data for tests/test_runner.py): each test leaks in one typical way."""

import os
import subprocess
import sys
import tempfile
import threading
import unittest

import tempguard


class Leaks(unittest.TestCase):

    def test_mkstemp(self):
        handle, _path = tempfile.mkstemp(suffix=".mkstemp")
        os.close(handle)

    def test_named_temporary_file_delete_false(self):
        with tempfile.NamedTemporaryFile(delete=False, suffix=".ntf") as handle:
            handle.write(b"x")

    def test_mkdtemp(self):
        tempfile.mkdtemp(suffix=".mkdtemp")

    def test_thread(self):
        def work():
            handle, _path = tempfile.mkstemp(suffix=".thread")
            os.close(handle)
        worker = threading.Thread(target=work)
        worker.start()
        worker.join()

    def test_subprocess(self):
        subprocess.check_call([sys.executable, "-c",
                               "import os; open(os.path.join(os.environ['TMPDIR'], "
                               "'from-subprocess'), 'w').close()"])

    def test_hard_coded_outside(self):
        with open(os.environ["EXAMPLE_OUTSIDE"], "w") as handle:
            handle.write("outside")


class FixtureLeak(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        handle, cls.path = tempfile.mkstemp(suffix=".setupclass")
        os.close(handle)

    def test_uses_fixture(self):
        self.assertTrue(os.path.exists(self.path))


class FixtureClean(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        handle, cls.path = tempfile.mkstemp(suffix=".clean-fixture")
        os.close(handle)
        cls.tracked = tempguard.create_temp_file("from setUpClass")

    @classmethod
    def tearDownClass(cls):
        os.remove(cls.path)

    def test_one(self):
        self.assertTrue(os.path.exists(self.path))
        self.assertTrue(self.tracked.exists())

    def test_two(self):
        self.assertTrue(self.tracked.exists())


class NoFalseLeaks(unittest.TestCase):

    def test_temporary_directory(self):
        with tempfile.TemporaryDirectory() as path:
            open(os.path.join(path, "f"), "w").close()

    def test_finalizer_deletes_file(self):
        handle = tempfile.NamedTemporaryFile()
        handle.write(b"x")
        cycle = [handle]
        cycle.append(cycle)  # only the garbage collector frees it

    def test_cleans_up_itself(self):
        handle, path = tempfile.mkstemp()
        os.close(handle)
        self.addCleanup(os.remove, path)

    def test_tracked(self):
        tempguard.create_temp_tree({"a/b": "c"})


class SubTests(unittest.TestCase):

    def test_leaks_in_one(self):
        for number in range(2):
            with self.subTest(number=number):
                if number == 1:
                    os.close(tempfile.mkstemp(suffix=".subtest")[0])


class Failing(unittest.TestCase):

    def test_fails_and_keeps_its_files(self):
        tempguard.create_temp_file("evidence", suffix=".evidence")
        handle, _path = tempfile.mkstemp(suffix=".untracked-evidence")
        os.close(handle)
        self.fail("on purpose")
