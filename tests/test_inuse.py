"""inuse: what live processes use, read once from /proc, and the lock attempt without it."""

import os
import subprocess
import sys
import tempfile
import unittest

from tempguard import inuse
from tests import support

_LOCKER = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
fcntl.flock(fd, fcntl.LOCK_SH)
print("locked", flush=True)
sys.stdin.read()
"""


@support.needs("dir_fd", "flock")  # its checks look inside a directory it holds open
class InUseTest(unittest.TestCase):

    def setUp(self):
        self.top = tempfile.mkdtemp()
        self.addCleanup(support._remove, self.top)
        self.fd = os.open(self.top, os.O_RDONLY | os.O_DIRECTORY)
        self.addCleanup(os.close, self.fd)

    def lock(self, path):
        locker = subprocess.Popen([sys.executable, "-c", _LOCKER, path], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, universal_newlines=True)
        self.addCleanup(locker.communicate, "")
        self.assertEqual(locker.stdout.readline().strip(), "locked")

    def reason(self, in_use, name):
        st = os.lstat(os.path.join(self.top, name))
        kind = "dir" if os.path.isdir(os.path.join(self.top, name)) else "file"
        return in_use.reason(self.fd, name, in_use.reasons_below(self.top), kind, st.st_dev,
                             st.st_ino)

    def test_a_lock_inside_a_directory_makes_it_in_use(self):
        support.needs_proc(self, "finding locks inside a directory (/proc/locks)")
        os.makedirs(os.path.join(self.top, "outer", "inner"))
        open(os.path.join(self.top, "outer", "inner", "f"), "w").close()
        os.mkdir(os.path.join(self.top, "free"))
        self.lock(os.path.join(self.top, "outer", "inner", "f"))
        in_use = inuse.InUse()
        self.assertEqual(in_use.skipped, [])
        self.assertIn("inside is locked", self.reason(in_use, "outer"))
        self.assertIsNone(self.reason(in_use, "free"))

    def test_without_proc_the_checks_skipped_are_named_and_the_lock_is_tried(self):
        os.mkdir(os.path.join(self.top, "locked"))
        os.mkdir(os.path.join(self.top, "free"))
        self.lock(os.path.join(self.top, "locked"))
        in_use = inuse.InUse(proc=os.path.join(self.top, "no-proc"))
        self.assertEqual(len(in_use.skipped), 1)
        self.assertIn("open files, current directories, bound sockets", in_use.skipped[0])
        self.assertEqual(self.reason(in_use, "locked"), "locked by another process")
        self.assertIsNone(self.reason(in_use, "free"))
        self.assertEqual(os.listdir(os.path.join(self.top, "locked")), [])


if __name__ == "__main__":
    unittest.main()
