"""Shared factories for tempguard's tests: sentinel trees, snapshots, child processes."""

import importlib.util
import json
import os
import re
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

import tempguard
from tempguard import capabilities, cleanup, inuse, origins
from tempguard.session import active_session

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(PROJECT, "tests", "examples")
# The package under test: the tree's, or an installed wheel's (make test-installed runs
# the suite from an unpacked sdist without its tempguard/).
PACKAGE = os.path.dirname(os.path.abspath(tempguard.__file__))
NOBODY = 65534
SYSTEM_PYTHON = "/usr/bin/python3"
# pytest as the tests run it: with only the plugins they name, xdist (where it is
# installed) and tempguard's. Whatever else the machine has is not loaded
# (run_python turns off pytest's autoload): it can change pytest's outcomes, and
# hypothesis's import alone costs 0.6 s of every run and of every xdist worker.
PYTEST = ["-m", "pytest", "-p", "no:cacheprovider"] + (
    ["-p", "xdist.plugin"] if importlib.util.find_spec("xdist") else [])


def real_tempdir():
    """The system temp dir, even while a tempguard run sandboxes tempfile."""
    session = active_session()
    return session.system_tempdir if session is not None else tempfile.gettempdir()


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


def build_sentinel(root):
    """Fill *root* with files, a subdirectory and an unusual mode: what must never change."""
    os.makedirs(os.path.join(root, "sub", "empty"))
    with open(os.path.join(root, "keep.txt"), "w") as handle:
        handle.write("precious")
    with open(os.path.join(root, "sub", "deep.bin"), "wb") as handle:
        handle.write(b"\x00\x01")
    os.chmod(os.path.join(root, "keep.txt"), 0o640)
    return root


def make_sentinel(test):
    """A sentinel tree outside every tracked root; the test fails if it changes at all."""
    root = build_sentinel(tempfile.mkdtemp(prefix="sentinel-"))
    test.addCleanup(_remove, root)
    before = snapshot(root)
    test.addCleanup(lambda: test.assertEqual(before, snapshot(root), "sentinel tree changed"))
    return root


def unprivileged_available():
    return UIDS and (os.geteuid() != 0 or (shutil.which("setpriv") is not None
                                           and os.path.exists(SYSTEM_PYTHON)))


def child_workspace(test, unprivileged, files=None):
    """A directory for a child process and the command prefix that runs Python there.

    The child gets its own copy of the tempguard package (and of this module,
    as ``support``) in a directory it owns, so it needs no access to the
    project tree. With *unprivileged*, the prefix drops to uid 65534 when we
    are root. *files* maps names to text written into the directory.
    Returns (work, argv prefix, env).
    """
    if unprivileged and not UIDS:
        test.skipTest(_lacks("uids"))
    if unprivileged and not unprivileged_available():
        test.skipTest("needs setpriv and %s to drop root" % SYSTEM_PYTHON)
    if unprivileged and os.geteuid() == 0:
        closed = _closed_to_others(real_tempdir())
        if closed is not None:
            test.skipTest("uid %d cannot reach the temp dir: %s is mode %o; run the suite "
                          "with a TMPDIR others may enter (as make test-all does)"
                          % (NOBODY, closed, stat.S_IMODE(os.stat(closed).st_mode)))
    work = tempfile.mkdtemp(prefix="tempguard-test-child-", dir=real_tempdir())
    test.addCleanup(_remove, work)
    shutil.copytree(PACKAGE, os.path.join(work, "tempguard"),
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(os.path.join(PROJECT, "tests", "support.py"), work)
    for name, text in (files or {}).items():
        with open(os.path.join(work, name), "w") as handle:
            handle.write(textwrap.dedent(text))
    env = dict(os.environ, TMPDIR=work, HOME=work, PYTHONDONTWRITEBYTECODE="1", PYTHONPATH=work)
    if unprivileged and os.geteuid() == 0:
        give_to_nobody(work)
        return work, ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY,
                      "--clear-groups", SYSTEM_PYTHON], env
    return work, [sys.executable], env


def _closed_to_others(path):
    """The first directory on the way to *path* that others may not enter, or None."""
    path = os.path.realpath(path)
    parts = path.split(os.sep)
    for end in range(2, len(parts) + 1):
        ancestor = os.sep.join(parts[:end])
        if not os.stat(ancestor).st_mode & stat.S_IXOTH:
            return ancestor
    return None


def give_to_nobody(path):
    """Make uid 65534 the owner of *path* and everything in it (links themselves, not targets)."""
    for dirpath, dirnames, filenames in os.walk(path):
        for name in [dirpath] + [os.path.join(dirpath, n) for n in dirnames + filenames]:
            os.lchown(name, NOBODY, NOBODY)


def run_child(test, code, unprivileged=True, files=None, env=None):
    """Run *code* in a child (as uid 65534 when *unprivileged* and root); return its JSON output.

    *code* finds its directory as WORK and prints one JSON document; *env*
    overrides the child's environment (TMPDIR is WORK unless given).
    """
    files = dict(files or {})
    files["child.py"] = ("import json, os, sys\nWORK = os.path.dirname(os.path.abspath(__file__))\n"
                         + textwrap.dedent(code))
    work, prefix, child_env = child_workspace(test, unprivileged, files)
    child_env.update(env or {})
    script = os.path.join(work, "child.py")
    completed = subprocess.run(prefix + [script], cwd=work, env=child_env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, universal_newlines=True, timeout=300)
    test.assertEqual(completed.returncode, 0, completed.stderr)
    return json.loads(completed.stdout)


def _remove(path):
    result = cleanup.remove_paths([path])
    if not result.ok:
        raise AssertionError("could not remove %s: %s" % (path, result.problems))


def run_python(args, cwd=None, env=None, timeout=300, prefix=(), **kwargs):
    """Run the current interpreter with tempguard importable, and pytest's plugins loaded
    only when named (see PYTEST), behind the command *prefix* if given (unshare, say);
    returns CompletedProcess."""
    full_env = dict(os.environ, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    full_env["PYTHONPATH"] = os.pathsep.join(
        [PROJECT] + ([full_env["PYTHONPATH"]] if full_env.get("PYTHONPATH") else []))
    full_env.update(env or {})
    return subprocess.run(list(prefix) + [sys.executable] + list(args), cwd=cwd or PROJECT,
                          env=full_env,
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
    """A run root as tempguard 0.1 left it (no lock: judged by its marker's pid);
    *owner* overrides fields of its marker."""
    from tempguard import sandbox
    path = os.path.join(parent, "tempguard-run-" + name)
    os.makedirs(os.path.join(path, "tmp"), 0o700)
    marker = {"pid": os.getpid(), "host": socket.gethostname(), "uid": capabilities.euid(),
              "started": 1.0, "finished": False}
    marker.update(owner)
    with open(os.path.join(path, sandbox.MARKER), "w") as handle:
        json.dump(marker, handle)
    return path


def require(module):
    """Skip the test, saying why, where *module* (an integration's tool) is not installed."""
    if importlib.util.find_spec(module) is None:
        raise unittest.SkipTest("%s is not installed for this Python (.ci/run installs it)"
                                % module)


def scratch_dir(test):
    """A directory the test owns, used as the child run's system temp dir."""
    path = tempfile.mkdtemp(prefix="scratch-")
    test.addCleanup(_remove, path)
    return path


def run_runner(test, suite, *args, env=None, runner="tempguard.runner"):
    """Run *suite* (a folder of tests/examples) under a runner; returns (completed, scratch).

    Where Python has no audit hooks, an entry outside the sandbox is a leak only in
    strict mode: the example suites' outside leaks are planted, so strict it is there.
    """
    scratch = scratch_dir(test)
    child_env = {"TMPDIR": scratch, "EXAMPLE_OUTSIDE": os.path.join(scratch, "hard-coded")}
    if not origins.AVAILABLE:
        child_env["TEMPGUARD_OUTSIDE"] = "strict"
    child_env.update(env or {})
    completed = run_python(["-m", runner] + list(args), cwd=os.path.join(EXAMPLES, suite),
                           env=child_env)
    return completed, scratch


def unittest_part(stderr):
    """unittest's own output: everything before tempguard's section, timings masked, and
    without the line a reduced platform's run starts with (see capabilities.say_reduced)."""
    text = REDUCED_NOTE.sub("", stderr).split("\ntempguard: ", 1)[0]
    text = re.sub(r"Ran (\d+) tests? in [\d.]+s", r"Ran \1 tests", text)
    return re.sub(r"File \".*?\"", "File", text).rstrip()


# /proc: masked in the macos-like and windows-like legs (see docs/platforms.rst).
HAS_PROC = os.path.isdir("/proc/self/fd")
UIDS = hasattr(os, "geteuid")
# What a test may need that a platform lacks, and whether this one has it: the
# windows-like leg hides all but /proc's absence, the macos-like leg /proc.
_PLATFORM = {
    "/proc": HAS_PROC,
    "children's dirs": capabilities.CHILD_DIRS,
    "dir_fd": capabilities.FD_FUNCTIONS,
    "fcntl": capabilities.FLOCK,
    "fifos": hasattr(os, "mkfifo"),
    "flock": capabilities.FLOCK,
    "fork": capabilities.FORK,
    "fd limits": capabilities.fd_limit() is not None,
    "pid probes": capabilities.pid_exists(os.getpid()) is not None,
    # POSIX removes an open file; Windows refuses (see test_platforms).
    "removing open files": UIDS,
    "uids": UIDS,
    "_posixsubprocess": capabilities.posix_subprocess is not None,
}


def _lacks(*features):
    return "needs %s, which this platform lacks (see docs/platforms.rst)" % ", ".join(features)


def needs(*features):
    """Decorator: skip a test or a class where this platform lacks one of *features*
    (keys of _PLATFORM), naming what it lacks."""
    lacking = [feature for feature in features if not _PLATFORM[feature]]
    return unittest.skipIf(lacking, _lacks(*lacking))


needs.has = _PLATFORM.__getitem__  # for a test that checks the reduced form where it lacks one


def needs_proc(test, what):
    """Skip *test* where there is no /proc, naming *what* needs it there."""
    if not HAS_PROC:
        test.skipTest("%s needs /proc (masked here, as on macOS; see docs/platforms.rst)"
                      % what)


# The one line a run on a reduced platform says (macOS, Windows: see docs/platforms.rst).
REDUCED_NOTE = re.compile(r"(?m)^tempguard: this platform has no [^\n]*\n")


def open_fds():
    """This process's open descriptors: from /proc, else (macOS) those fstat finds below
    the fd limit. For example suites that take over every descriptor."""
    try:
        return [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        found = []
        # Windows: no limit to read; its C runtime opens 512 at most by default.
        for number in range((capabilities.fd_limit() or (512, 0))[0]):
            try:
                os.fstat(number)
            except OSError:
                continue
            found.append(number)
        return found


def mount_tmpfs(test, mount_point, size="1m"):
    """Mount a small tmpfs, unmounted at the test's end; skips with the reason if it cannot."""
    if not UIDS:
        test.skipTest(_lacks("uids"))
    if os.geteuid() != 0:
        test.skipTest("mounting a tmpfs needs root")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0700" % size,
                              "tmpfs", mount_point], stderr=subprocess.PIPE,
                             universal_newlines=True)
    if mounted.returncode != 0:
        test.skipTest("cannot mount a tmpfs here: %s" % mounted.stderr.strip())
    test.addCleanup(subprocess.run, ["umount", mount_point], stderr=subprocess.DEVNULL)


def wait_for(path, seconds=60):
    """Wait until *path* exists; fail the test after *seconds*."""
    wait_until(lambda: os.path.exists(path), seconds, lambda: "gave up waiting for %s" % path)


def unused(pid):
    """True once process *pid* has exited (a zombie counts as exited)."""
    return inuse.process_state(pid) in (None, "Z")


def wait_until(condition, seconds, message):
    """Wait until *condition()* is true; after *seconds*, fail with *message()*."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(message())
        time.sleep(0.02)
