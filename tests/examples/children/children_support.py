"""Start child_writer.py and tell it when to write."""

import os
import subprocess
import sys
import time

WRITER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "child_writer.py")


def start(name, count, *flags):
    # Not on the runner's pipes: whoever reads them would wait for a child that lingers.
    return subprocess.Popen([sys.executable, WRITER, name, str(count)] + list(flags),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def write_now(name):
    """Let the child called *name* write, and wait until it has."""
    control = os.environ["EXAMPLE_CONTROL"]
    open(os.path.join(control, name + ".go"), "w").close()
    wait_for(name)


def wait_for(name):
    done = os.path.join(os.environ["EXAMPLE_CONTROL"], name + ".done")
    deadline = time.time() + 30
    while not os.path.exists(done):
        if time.time() > deadline:
            raise AssertionError("%s never wrote its files" % name)
        time.sleep(0.01)
