"""Where each temp entry was made: the user's line of code, from the interpreter's audit events.

Python 3.8+ raises an audit event whenever a file, directory, link or Unix
socket is created (``open`` with O_CREAT, ``os.mkdir``, ``os.rename``...).
One hook, added once per process (audit hooks cannot be removed), passes
those events to the running Recorder. It keeps a stack only for an entry
made directly in a watched directory (the sandbox, the temp dir): what is
made inside a temp dir belongs to that dir. The guard that reads an entry's
origin clears the rest when its stretch of time ends.

An origin is JSON-ready data (it crosses processes, see wire, and lands in
the report), one of these shapes; describe() reads them all:

==========================================  =====================================  ===========
keys                                        what it says                           made by
==========================================  =====================================  ===========
file, line, function, stack                 the user's line that made it, and its  Recorder
                                            callers (frames like the first)
forked                                      a forked copy of the test process      Recorder
                                            (that pid) made it
started_by, after_end, subprocess, pid      a child of that test or fixture made   children
(or processes, for several)                 it in the dir it was given
children_started, count                     a hint, not evidence: the commands     Recorder
                                            the test process started meanwhile
children_alive                              a hint: this run's children running    judge
                                            when it appeared outside
found                                       no record of its making: where it was  supervisor,
                                            found                                  pytest_xdist
==========================================  =====================================  ===========
"""

import dis
import functools
import json
import sys
import sysconfig
import tempfile
import unittest

from .real import os
from . import capabilities as _capabilities
from . import cleanup as _cleanup
from . import held as _held

__all__ = ["AVAILABLE", "UNAVAILABLE_REASON", "Recorder", "command_line", "describe",
           "is_library_file"]

# Audit hooks came with Python 3.8 (PEP 578).
AVAILABLE = _capabilities.AUDIT_HOOKS
UNAVAILABLE_REASON = "unavailable on Python %d.%d (it has no audit hooks)" % sys.version_info[:2]

# The frames of an origin: the innermost of the user's code, then its callers.
_MAX_FRAMES = 6
# What a frame's code is, by its file name.
_USER, _LIBRARY, _TEMPGUARD_CODE, _BOUNDARY = "user", "library", "tempguard", "boundary"

_running = None  # the Recorder the hook reports to
_hooked = False


class Recorder(object):
    """Keeps, for each entry made directly in *directories*, the user's frames that made it."""

    def __init__(self, directories):
        self.directories = set(directories)
        self.made = {}
        self.affixes = {}  # path: (prefix, suffix) its tempfile call gave (see _user_frames)
        self.forked = {}  # path: pid of the forked copy that made it (see _ForkLog)
        self.started = []  # argv of the subprocesses started, where children share the sandbox
        self._real = {}  # parent as spelled: as resolved (see _resolved)
        self._described = {}  # frames: their origin, shared by the many entries one line made
        self._outer = None
        self._pid = None
        self._forks = None

    def start(self):
        global _running, _hooked
        if not _hooked:
            sys.addaudithook(_hook)
            _hooked = True
        self._pid = os.getpid()
        self._forks = _ForkLog() if _capabilities.FORK else None  # no forked copies
        self._outer, _running = _running, self

    def stop(self):
        """Stop recording; a recorder started before this one records again."""
        global _running
        if _running is self:
            _running = self._outer
        self.made, self.affixes, self.forked = {}, {}, {}
        if self._forks is not None and os.getpid() == self._pid:
            self._forks.close()
            self._forks = None

    def origin_of(self, path):
        """The origin of *path* as JSON-ready data, or None if it was not seen being made."""
        frames = self.made.get(path)
        if not frames:
            if self._forks is not None:
                self.forked.update(self._forks.read_new())
            pid = self.forked.get(path)
            return None if pid is None else {"forked": pid}
        origin = self._described.get(frames)
        if origin is None:
            described = [{"file": code.co_filename, "line": _line_of(code, lasti),
                          "function": code.co_name} for code, lasti in frames]
            origin = self._described[frames] = dict(described[0], stack=described[1:])
        affixes = self.affixes.get(path)
        if affixes is None:
            return origin
        # Shared, as the origin is, by the many entries one line made with one prefix.
        key = (frames, affixes)
        with_affixes = self._described.get(key)
        if with_affixes is None:
            with_affixes = self._described[key] = dict(origin, tempfile_affixes=list(affixes))
        return with_affixes

    def started_hint(self):
        """Where children share the sandbox (see capabilities.CHILD_DIRS): the commands the
        stretch started, as the origin of a sandbox entry it did not make itself; a
        hint, not evidence. None if it started none."""
        if not self.started:
            return None
        return {"children_started": [command_line(argv) for argv in self.started[:3]],
                "count": len(self.started)}

    def forget(self):
        """Drop what was kept: a stretch of time has been judged."""
        if self.started:
            self.started = []
        if self.made:
            self.made = {}
        if self.affixes:
            self.affixes = {}
        if self.forked:
            self.forked = {}
        if self._real:
            self._real.clear()
        if self._described:
            self._described.clear()

    def _resolved(self, parent):
        """*parent* resolved as the kernel would (links, "." and ".."); cached for one
        stretch of time, as a test writes many files into few dirs."""
        real = self._real.get(parent)
        if real is None:
            if len(self._real) > 1024:
                self._real.clear()
            real = self._real[parent] = os.path.realpath(parent)
        return real

    def _saw(self, path, dir_fd=None):
        """Keep the frames that made *path* (relative to *dir_fd*, or the cwd) if it is
        directly in a watched dir, matched as the kernel resolves it: trailing slashes,
        "." and ".." segments, doubled slashes and links in the parent all count."""
        if path.__class__ is not str:
            if isinstance(path, int):
                return  # a descriptor: nothing is created by name
            path = os.fsdecode(os.fspath(path))
        resolved = False
        if path[:1] != "/":
            try:
                base = (os.getcwd() if dir_fd in (None, -1)
                        else os.readlink("/proc/self/fd/%d" % dir_fd))
            except OSError:
                return
            # The kernel gives both resolved: a bare name needs no realpath, which
            # stats every level (quadratic for a test that builds a deep tree by fd).
            resolved = "/" not in path.rstrip("/")
            path = base + "/" + path
        parent, _, name = path.rstrip("/").rpartition("/")
        if name in ("", ".", ".."):
            return  # names no new entry
        if parent not in self.directories:
            if resolved:
                return
            parent = self._resolved(parent)
            if parent not in self.directories:
                return
        path = parent + "/" + name
        if os.getpid() != self._pid:
            self._forks.append(path)  # a forked copy: its parent judges what it made
        elif path not in self.made:
            self.made[path], affixes = _user_frames(sys._getframe(2))
            if affixes is not None and name == affixes[0] + affixes[1] + affixes[2]:
                self.affixes[path] = (affixes[0], affixes[2])


class _ForkLog(object):
    """Where forked copies of the process (fork without exec) say what they made in a
    watched dir: an anonymous file they inherit, appended to a line at a time, and
    checked by identity before each use (a copy may have closed or reused it). Each
    line is a pid and the path as a JSON string, so no name can break a line; a line
    that does not parse (a test wrote into the file) is skipped."""

    def __init__(self):
        self._fd = _held.high_fd(_held.anonymous_file())
        _capabilities.set_append(self._fd)
        st = os.fstat(self._fd)
        self._identity = _cleanup.inode_key(st)
        self._read = 0

    def append(self, path):
        try:
            if _held.holds(self._fd, self._identity):
                os.write(self._fd, ("%d %s\n" % (os.getpid(), json.dumps(path))).encode())
        except OSError:
            pass  # the copy broke its descriptors: its entry stays unattributed

    def read_new(self):
        """{path: pid} of what copies wrote since the last call, read to the end."""
        made = {}
        if not _held.holds(self._fd, self._identity):
            return made  # a test closed or reused it: what it said is lost, not misread
        while True:
            chunk = os.pread(self._fd, 1 << 20, self._read)
            complete = chunk[:chunk.rfind(b"\n") + 1]
            if not complete:
                return made
            self._read += len(complete)
            for line in complete.splitlines():
                pid, _, path = line.partition(b" ")
                try:
                    name, maker = json.loads(path.decode()), int(pid)
                except ValueError:
                    continue
                if isinstance(name, str):
                    made[name] = maker

    def close(self):
        if _held.holds(self._fd, self._identity):
            os.close(self._fd)


def _created(event, args):
    """(path, dir_fd) of what an event other than open creates, or (None, None)."""
    if event == "os.mkdir":
        return args[0], args[2]
    if event == "socket.bind":
        address = args[1]
        made = isinstance(address, str) and address[:1] not in ("", "\0")
        return (address if made else None), None
    # os.rename, os.replace, os.link, os.symlink: the destination is made.
    return args[1], args[-1]


_OTHER_EVENTS = frozenset(("os.mkdir", "os.rename", "os.link", "os.symlink", "socket.bind"))
_O_CREAT = os.O_CREAT
# Where children share the sandbox, the commands a test starts are the hint (started_hint).
_STARTED = None if _capabilities.CHILD_DIRS else "subprocess.Popen"


def _hook(event, args):
    # Runs for every audit event of the process: the common misses return first.
    if event == "open":
        if not (args[2] or 0) & _O_CREAT:
            return
    elif event not in _OTHER_EVENTS:
        if event == _STARTED and _running is not None:
            _running.started.append([os.fsdecode(arg) for arg in args[1]]
                                    if isinstance(args[1], (list, tuple)) else [args[1]])
        return
    recorder = _running
    if recorder is None:
        return
    try:
        # open's audit event carries no dir_fd: a name opened relative to one is taken
        # as relative to the cwd.
        path, dir_fd = (args[0], None) if event == "open" else _created(event, args)
        if path is not None:
            recorder._saw(path, dir_fd)
    except Exception:  # an audit hook that raises would fail the user's own call
        pass


# tempfile's makers, and the names of their locals that hold the prefix, the random part
# and the suffix of the name they make (the same in 3.8 to 3.13).
_TEMPFILE_MAKERS = {tempfile._mkstemp_inner.__code__: ("pre", "name", "suf"),
                    tempfile.mkdtemp.__code__: ("prefix", "name", "suffix")}


def _user_frames(frame):
    """(code, last instruction) of the user's frames, innermost first, up to unittest's;
    and (prefix, random part, suffix) if tempfile made the entry, else None.

    Standard library and tempguard frames are skipped; if the user's code
    shows none (a cleanup calling shutil directly), the innermost frame is
    named rather than nothing. Line numbers are worked out only for the
    entries reported: f_lineno decodes a line table, f_lasti is read.
    """
    frames, innermost, affixes, kinds = [], None, None, _kinds
    while frame is not None:
        code = frame.f_code
        kind = kinds.get(code.co_filename) or _kind_of(code.co_filename)
        if kind is _USER:
            frames.append((code, frame.f_lasti))
            if len(frames) == _MAX_FRAMES:
                break
        elif kind is _BOUNDARY:
            break
        elif kind is _LIBRARY:
            if innermost is None:
                innermost = (code, frame.f_lasti)
            if code in _TEMPFILE_MAKERS and affixes is None:
                affixes = _affixes(frame, _TEMPFILE_MAKERS[code])
        frame = frame.f_back
    return tuple(frames) or ((innermost,) if innermost else ()), affixes


def _affixes(frame, names):
    """The (prefix, random part, suffix) a tempfile maker's frame holds, or None."""
    local = frame.f_locals
    found = tuple(local.get(name) for name in names)
    return found if all(isinstance(part, str) for part in found) else None


def _line_of(code, lasti):
    """The line of the instruction at byte offset *lasti* of *code*."""
    line = code.co_firstlineno
    if hasattr(code, "co_lines"):
        for start, end, number in code.co_lines():
            if start <= lasti < end and number is not None:
                return number
        return line
    for offset, number in dis.findlinestarts(code):  # 3.8 and 3.9 have no co_lines()
        if offset > lasti:
            break
        line = number
    return line


_kinds = {}  # file name -> kind
_TEMPGUARD = os.path.dirname(os.path.abspath(__file__)) + os.sep
_UNITTEST = os.path.dirname(os.path.abspath(unittest.__file__)) + os.sep


def _library_dirs():
    """The standard library's dirs, and what in them is the user's: installed
    packages, and CPython's own test suite (its tests are someone's code too)."""
    paths = sysconfig.get_paths()
    stdlib = set(os.path.abspath(paths[name]) + os.sep for name in ("stdlib", "platstdlib"))
    users = set(os.path.abspath(paths[name]) + os.sep for name in ("purelib", "platlib"))
    users.update(path + "test" + os.sep for path in stdlib)
    return tuple(stdlib), tuple(users)


_STDLIB, _USERS_IN_STDLIB = _library_dirs()


# Test harnesses whose frames end a chain, as unittest's do: pytest and its hooks.
_HARNESS_FRAMES = tuple(os.sep + name + os.sep for name in ("_pytest", "pluggy"))


def is_library_file(filename):
    """True for a file of the standard library (an absolute path, or <frozen ...>), not
    of the user's code: installed packages and CPython's test suite are the user's."""
    return filename.startswith("<frozen") or (filename.startswith(_STDLIB)
                                              and not filename.startswith(_USERS_IN_STDLIB))


def _kind_of(filename):
    if filename.startswith(_UNITTEST) or any(part in filename for part in _HARNESS_FRAMES):
        kind = _BOUNDARY
    elif filename.startswith(_TEMPGUARD):
        kind = _TEMPGUARD_CODE
    elif is_library_file(filename):
        kind = _LIBRARY
    else:
        kind = _USER
    _kinds[filename] = kind
    return kind


def describe(origin, cwd=None):
    """One line for people: "made at tests/x.py:3 in helper  <- tests/y.py:9 in setUp"."""
    if origin is None:
        return "not seen being made (by another process, or a way the audit hook misses)"
    if "children_started" in origin:  # a hint, not evidence (see Recorder.started_hint)
        more = origin["count"] - len(origin["children_started"])
        return ("not seen being made in this process; it started %s%s meanwhile (children's "
                "files share the sandbox on this platform)" % (
                    ", ".join(origin["children_started"]),
                    " and %d more" % more if more > 0 else ""))
    if "children_alive" in origin:  # a hint, not evidence (see Judge.unattributed_of)
        return ("not seen being made; pid %s of this run was running then: a child's files "
                "are attributed only in the temp dir it was given"
                % ", ".join(str(pid) for pid in origin["children_alive"]))
    if "found" in origin:  # no record of its making: where it was found
        return origin["found"]
    if "forked" in origin:
        return "made by a forked copy of the test process: pid %d" % origin["forked"]
    if "subprocess" in origin:
        return _describe_child(origin)
    frames = [origin] + list(origin.get("stack", ()))
    return "made at " + "  <- ".join(
        "%s:%d in %s" % (_short(frame["file"], cwd), frame["line"], frame["function"])
        for frame in frames)


def _describe_child(origin):
    if origin.get("subprocess") is not None or origin.get("pid") is not None:
        who = ": pid %s (%s)" % (origin["pid"], command_line(origin["subprocess"]))
    else:
        who = ": one of %d processes" % origin.get("processes", 0)
    return "made by a child process of %s%s%s" % (
        origin["started_by"], " after it ended" if origin.get("after_end") else "", who)


def command_line(argv, limit=100):
    """A child's command line, its program by name; a fork has none. Past *limit*
    characters, absolute paths lose their start first (".../children/writer.py"): the
    script's name and the arguments after it say more than where it is checked out."""
    if argv is None:
        return "a fork of this process"
    if not argv:
        return "no command line"
    words = [os.path.basename(argv[0])] + [str(arg) for arg in argv[1:]]
    text = " ".join(words)
    if len(text) > limit:
        text = " ".join(_path_tail(word) if os.path.isabs(word) else word for word in words)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _path_tail(path):
    """*path*'s last two parts after "...", if that is shorter."""
    parts = path.rstrip(os.sep).split(os.sep)
    tail = os.sep.join(["..."] + parts[-2:])
    return tail if len(tail) < len(path) else path


def _short(filename, cwd):
    return _relative(filename, cwd or os.getcwd())


@functools.lru_cache(maxsize=256)
def _relative(filename, cwd):
    """*filename* relative to *cwd* if it is inside it (thousands of leaks share a few)."""
    if filename.startswith(cwd.rstrip(os.sep) + os.sep):
        return os.path.relpath(filename, cwd)
    return filename
