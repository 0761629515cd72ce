"""A test that starts a daemon, as python-gnupg's tests start gpg-agent: its starter
exits at once, and the daemon lives on with nothing open in the temp dir it inherited."""

import subprocess
import sys
import unittest

DAEMON = """
import os, sys, time
if os.fork():
    os._exit(0)
os.setsid()
null = os.open(os.devnull, os.O_RDWR)
for fd in (0, 1, 2):
    os.dup2(null, fd)
with open(os.environ["DAEMON_PIDFILE"], "w") as handle:
    handle.write(str(os.getpid()))
time.sleep(300)
"""


class StartsADaemon(unittest.TestCase):

    def test_starts_a_daemon(self):
        subprocess.run([sys.executable, "-c", DAEMON], check=True)


if __name__ == "__main__":
    unittest.main()
