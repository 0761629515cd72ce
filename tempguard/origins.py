"""Where each temp entry was made: the user's line of code, from the interpreter's audit events.

Python 3.8+ raises an audit event whenever a file, directory, link or Unix
socket is created (``open`` with O_CREAT, ``os.mkdir``, ``os.rename``...).
One hook, added once per process (audit hooks cannot be removed), passes
those events to the running Recorder. It keeps a stack only for an entry
made directly in a watched directory (the sandbox, the temp dir): what is
made inside a temp dir belongs to that dir. The guard that reads an entry's
origin clears the rest when its stretch of time ends.
"""

import os
import sys
import sysconfig
import unittest

__all__ = ["AVAILABLE", "UNAVAILABLE_REASON", "Recorder", "describe"]

# Audit hooks came with Python 3.8 (PEP 578).
AVAILABLE = hasattr(sys, "addaudithook")
UNAVAILABLE_REASON = "unavailable on Python %d.%d (it has no audit hooks)" % sys.version_info[:2]

# The frames of an origin: the innermost of the user's code, then its callers.
_MAX_FRAMES = 6
# What a frame is, by its code object: kept once per code object seen.
_USER, _LIBRARY, _TEMPGUARD_CODE, _BOUNDARY = "user", "library", "tempguard", "boundary"

_running = None  # the Recorder the hook reports to
_hooked = False


class Recorder(object):
    """Keeps, for each entry made directly in *directories*, the user's frames that made it."""

    def __init__(self, directories):
        self.directories = set(directories)
        self.made = {}

    def start(self):
        global _running, _hooked
        if not _hooked:
            sys.addaudithook(_hook)
            _hooked = True
        _running = self

    def stop(self):
        global _running
        if _running is self:
            _running = None
        self.made = {}

    def origin_of(self, path):
        """The origin of *path* as JSON-ready data, or None if it was not seen being made."""
        frames = self.made.get(path)
        if not frames:
            return None
        (filename, line, function) = frames[0]
        return {"file": filename, "line": line, "function": function,
                "stack": [{"file": f, "line": n, "function": name}
                          for f, n, name in frames[1:]]}

    def forget(self):
        """Drop what was kept: a stretch of time has been judged."""
        if self.made:
            self.made = {}

    def _saw(self, path):
        if not isinstance(path, str):
            if isinstance(path, int):
                return  # a descriptor: nothing is created by name
            path = os.fsdecode(os.fspath(path))
        if not path.startswith("/"):
            path = os.path.normpath(os.path.join(os.getcwd(), path))
        if path.rpartition("/")[0] in self.directories and path not in self.made:
            self.made[path] = _user_frames(sys._getframe(2))


def _created(event, args):
    """The path an audit event creates, or None."""
    if event == "open":
        path, _mode, flags = args
        return path if flags is not None and flags & os.O_CREAT else None
    if event == "os.mkdir":
        return args[0] if args[2] in (-1, None) else None
    if event == "socket.bind":
        address = args[1]
        return address if isinstance(address, str) and address[:1] not in ("", "\0") else None
    # os.rename, os.replace, os.link, os.symlink: the destination is made.
    return args[1] if args[-1] in (-1, None) else None


_EVENTS = frozenset(("open", "os.mkdir", "os.rename", "os.link", "os.symlink", "socket.bind"))


def _hook(event, args):
    if event in _EVENTS and _running is not None:
        try:
            path = _created(event, args)
            if path is not None:
                _running._saw(path)
        except Exception:  # an audit hook that raises would fail the user's own call
            pass


def _user_frames(frame):
    """(file, line, function) of the user's frames, innermost first, up to unittest's.

    Standard library and tempguard frames are skipped; if the user's code
    shows none (a cleanup calling shutil directly), the innermost frame is
    named rather than nothing.
    """
    frames, innermost = [], None
    while frame is not None:
        code = frame.f_code
        kind = _kinds.get(code)
        if kind is None:
            if len(_kinds) > _MAX_KINDS:
                _kinds.clear()
            kind = _kinds[code] = _kind_of(code.co_filename)
        if kind is _USER:
            frames.append((code.co_filename, frame.f_lineno, code.co_name))
            if len(frames) == _MAX_FRAMES:
                break
        elif kind is _BOUNDARY:
            break
        elif innermost is None and kind is _LIBRARY:
            innermost = (code.co_filename, frame.f_lineno, code.co_name)
        frame = frame.f_back
    return tuple(frames) or ((innermost,) if innermost else ())


_kinds = {}  # code object -> kind; emptied when large (exec'd code comes and goes)
_MAX_KINDS = 20000
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


def _kind_of(filename):
    if filename.startswith(_UNITTEST):
        return _BOUNDARY
    if filename.startswith(_TEMPGUARD):
        return _TEMPGUARD_CODE
    if filename.startswith("<frozen") or (filename.startswith(_STDLIB)
                                          and not filename.startswith(_USERS_IN_STDLIB)):
        return _LIBRARY
    return _USER


def describe(origin, cwd=None):
    """One line for people: "made at tests/x.py:3 in helper  <- tests/y.py:9 in setUp"."""
    if origin is None:
        return "made outside this process"
    if "subprocess" in origin:
        return _describe_child(origin)
    frames = [origin] + list(origin.get("stack", ()))
    return "made at " + "  <- ".join(
        "%s:%d in %s" % (_short(frame["file"], cwd), frame["line"], frame["function"])
        for frame in frames)


def _describe_child(origin):
    if origin.get("subprocess") is not None or origin.get("pid") is not None:
        who = ": pid %s (%s)" % (origin["pid"], _command_line(origin["subprocess"]))
    else:
        who = ": one of %d processes" % origin.get("processes", 0)
    return "made by a child process of %s%s%s" % (
        origin["started_by"], " after it ended" if origin.get("after_end") else "", who)


def _command_line(argv, limit=100):
    """A child's command line, its program by name; a fork has none."""
    if argv is None:
        return "a fork of this process"
    text = " ".join([os.path.basename(argv[0])] + list(argv[1:]))
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _short(filename, cwd):
    cwd = cwd or os.getcwd()
    if filename.startswith(cwd.rstrip(os.sep) + os.sep):
        return os.path.relpath(filename, cwd)
    return filename
