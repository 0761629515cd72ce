"""A server started in setUpModule writes while the module's tests run."""

import unittest

from children_support import start, write_now

server = None


def setUpModule():
    global server
    server = start("module", 2)


def tearDownModule():
    server.wait()


class Innocent(unittest.TestCase):

    def test_innocent(self):
        write_now("module")


if __name__ == "__main__":
    unittest.main()
