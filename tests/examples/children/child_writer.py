"""A child process of the example suites: waits for CONTROL/NAME.go, makes COUNT temp files
named NAME..., then leaves CONTROL/NAME.done.

--spawn: start a grandchild that does this, in a session of its own, and exit at once.
--own-tmpdir: first point TMPDIR at a new temp dir of its own, inside the one given.
--forever: make one file at once, then sleep for a minute.
"""

import os
import subprocess
import sys
import tempfile
import time


def main(name, count, *flags):
    control = os.environ["EXAMPLE_CONTROL"]
    if "--spawn" in flags:
        subprocess.Popen([sys.executable, __file__, name, count], start_new_session=True)
        return
    if "--own-tmpdir" in flags:
        os.environ["TMPDIR"] = tempfile.mkdtemp(prefix=name + "-own")
        tempfile.tempdir = None
    if "--forever" in flags:
        os.close(tempfile.mkstemp(prefix=name)[0])
        open(os.path.join(control, name + ".done"), "w").close()
        time.sleep(60)
        return
    go = os.path.join(control, name + ".go")
    while not os.path.exists(go):
        time.sleep(0.01)
    for _ in range(int(count)):
        os.close(tempfile.mkstemp(prefix=name)[0])
    open(os.path.join(control, name + ".done"), "w").close()


if __name__ == "__main__":
    main(*sys.argv[1:])
