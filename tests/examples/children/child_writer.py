"""A child process of the example suites: waits for CONTROL/NAME.go, makes COUNT temp files
named NAME..., then leaves CONTROL/NAME.done.

--spawn: start a grandchild that does this, in a session of its own, and exit at once.
--own-tmpdir: first point TMPDIR at a new temp dir of its own, inside the one given.
--forever: make one file at once, then run until CONTROL/NAME.stop appears (at most a
minute), make one more file in the same dir, and leave CONTROL/NAME.stopped: its dir must
still be there.
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
        deadline = time.time() + 60
        while not os.path.exists(os.path.join(control, name + ".stop")) and time.time() < deadline:
            time.sleep(0.05)
        os.close(tempfile.mkstemp(prefix=name)[0])
        open(os.path.join(control, name + ".stopped"), "w").close()
        return
    go = os.path.join(control, name + ".go")
    while not os.path.exists(go):
        time.sleep(0.01)
    for _ in range(int(count)):
        os.close(tempfile.mkstemp(prefix=name)[0])
    open(os.path.join(control, name + ".done"), "w").close()


if __name__ == "__main__":
    main(*sys.argv[1:])
