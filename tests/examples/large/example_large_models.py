"""Example suite (data for tests/test_runner.py): a real-world-shaped suite of a few hundred tests.

Module and class fixtures, skips, expected failures, subTests, printed output
(for -b), a few failures and errors, and temp files used properly.
"""

import os
import tempfile
import unittest

_module_state = {}


def setUpModule():
    _module_state["dir"] = tempfile.mkdtemp(prefix="models-")


def tearDownModule():
    os.rmdir(_module_state.pop("dir"))


def _make_test(kind, number):
    def test(self):
        print("output of test %d" % number)
        if kind == "subtests":
            for index in range(3):
                with self.subTest(index=index):
                    self.assertNotEqual((number + index) % 41, 0)
        elif kind == "files":
            with tempfile.NamedTemporaryFile(dir=_module_state["dir"]) as handle:
                handle.write(b"row %d" % number)
            with tempfile.TemporaryDirectory() as path:
                open(os.path.join(path, "data"), "w").close()
        elif number % 37 == 0:
            raise RuntimeError("error in test %d" % number)
        else:
            self.assertLess(number % 53, 52, "failure in test %d" % number)
    return test


def _make_class(index):
    namespace = {}
    for number in range(index * 12, index * 12 + 12):
        kind = ("subtests", "files", "plain")[number % 3]
        test = _make_test(kind, number)
        if number % 29 == 0:
            test = unittest.skip("skipped %d" % number)(test)
        elif number % 31 == 0:
            test = unittest.expectedFailure(_make_test("plain", 53 * 3 - 1))
        namespace["test_%03d" % number] = test

    def setUpClass(cls):
        cls.shared = tempfile.mkdtemp(prefix="class-")

    def tearDownClass(cls):
        os.rmdir(cls.shared)
    namespace["setUpClass"] = classmethod(setUpClass)
    namespace["tearDownClass"] = classmethod(tearDownClass)
    return type("Model%02d" % index, (unittest.TestCase,), namespace)


for _index in range(25):
    _model = _make_class(_index)
    globals()[_model.__name__] = _model
del _index, _model  # or the loader would find the last class twice
