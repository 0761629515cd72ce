"""Shared factories for tempguard's tests: sentinel trees, snapshots, child processes."""

import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import textwrap

from tempguard import cleanup

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(PROJECT, "tests", "examples")
NOBODY = 65534
SYSTEM_PYTHON = "/usr/bin/python3"


def real_tempdir():
    """The system temp dir, even while a tempguard run sandboxes tempfile."""
    return os.environ.get("TEMPGUARD_SYSTEM_TMPDIR") or tempfile.gettempdir()


def snapshot(root):
    """{relative path: (kind, mode, mtime_ns, content or link target)} of a tree, links not followed."""
    result = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):
                payload = os.readlink(path)
            elif stat.S_ISREG(st.st_mode):
                with open(path, "rb") as handle:
                    payload = handle.read()
            else:
                payload = None
            result[os.path.relpath(path, root)] = (
                stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), st.st_mtime_ns, payload)
    st = os.lstat(root)
    result["."] = (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), st.st_mtime_ns, None)
    return result


def make_sentinel(test):
    """A sentinel tree outside every tracked root; the test fails if it changes at all."""
    root = tempfile.mkdtemp(prefix="sentinel-")
    test.addCleanup(_remove, root)
    os.makedirs(os.path.join(root, "sub", "empty"))
    with open(os.path.join(root, "keep.txt"), "w") as handle:
        handle.write("precious")
    with open(os.path.join(root, "sub", "deep.bin"), "wb") as handle:
        handle.write(b"\x00\x01")
    os.chmod(os.path.join(root, "keep.txt"), 0o640)
    before = snapshot(root)
    test.addCleanup(lambda: test.assertEqual(before, snapshot(root), "sentinel tree changed"))
    return root


def unprivileged_available():
    return (os.geteuid() != 0
            or (shutil.which("setpriv") is not None and os.path.exists(SYSTEM_PYTHON)))


def run_unprivileged(test, code):
    """Run *code* as an unprivileged user (uid 65534 when we are root) and return its JSON output.

    The child gets its own copy of the tempguard package in a directory it
    owns, so it needs no access to the project tree; *code* finds that
    directory as WORK and prints one JSON document.
    """
    if not unprivileged_available():
        test.skipTest("needs setpriv and %s to drop root" % SYSTEM_PYTHON)
    work = tempfile.mkdtemp(prefix="tempguard-test-nobody-", dir=real_tempdir())
    test.addCleanup(_remove, work)
    shutil.copytree(os.path.join(PROJECT, "tempguard"), os.path.join(work, "tempguard"),
                    ignore=shutil.ignore_patterns("__pycache__"))
    script = os.path.join(work, "child.py")
    with open(script, "w") as handle:
        handle.write("import json, os, sys\nWORK = %r\nsys.path.insert(0, WORK)\n" % work)
        handle.write(textwrap.dedent(code))
    env = dict(os.environ, TMPDIR=work, HOME=work, PYTHONDONTWRITEBYTECODE="1")
    if os.geteuid() == 0:
        for dirpath, dirnames, filenames in os.walk(work):
            for name in [dirpath] + [os.path.join(dirpath, n) for n in dirnames + filenames]:
                os.lchown(name, NOBODY, NOBODY)
        command = ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY,
                   "--clear-groups", SYSTEM_PYTHON, script]
    else:
        command = [sys.executable, script]
    completed = subprocess.run(command, cwd=work, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, universal_newlines=True, timeout=300)
    test.assertEqual(completed.returncode, 0, completed.stderr)
    return json.loads(completed.stdout)


def _remove(path):
    result = cleanup.remove_paths([path])
    if not result.ok:
        raise AssertionError("could not remove %s: %s" % (path, result.problems))


def run_python(args, cwd=None, env=None, timeout=300, **kwargs):
    """Run the current interpreter with tempguard importable; returns CompletedProcess."""
    full_env = dict(os.environ)
    full_env["PYTHONPATH"] = os.pathsep.join(
        [PROJECT] + ([full_env["PYTHONPATH"]] if full_env.get("PYTHONPATH") else []))
    full_env.update(env or {})
    return subprocess.run([sys.executable] + list(args), cwd=cwd or PROJECT, env=full_env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=timeout, **kwargs)


def load_json(path):
    with open(path) as handle:
        return json.load(handle)


def dead_pid():
    """The pid of a process that has certainly exited."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def make_run_root(parent, name, **owner):
    """A run root as a tempguard run leaves it; *owner* overrides fields of its marker."""
    from tempguard import sandbox
    path = os.path.join(parent, sandbox.RUN_PREFIX + name)
    os.makedirs(os.path.join(path, "tmp"), 0o700)
    marker = {"pid": os.getpid(), "host": socket.gethostname(), "uid": os.geteuid(),
              "started": 1.0, "finished": False}
    marker.update(owner)
    with open(os.path.join(path, sandbox.MARKER), "w") as handle:
        json.dump(marker, handle)
    return path
