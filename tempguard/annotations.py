"""Leaks where CI shows results: GitHub Actions workflow commands, one per leak group.

Each owner's new leaks (not known to the baseline) made at one line become
one ``::warning`` (or ``::error``, when the run fails tests for leaks) at
that line, written to stdout, where the Actions runner reads workflow
commands. Escaped as the Actions documentation says: ``%``, CR and LF in the
message; also ``:`` and ``,`` in property values. GitHub shows only the first
10 annotations of a kind in a step, so past 10 groups the tenth annotation
says how many more there are and where they are listed.
"""

import collections
import os

from .output import display
from .records import by_owner

__all__ = ["github_commands", "write_github"]

# How many paths one annotation names; the JSON report has them all.
_NAMED = 3
# Warning (or error) annotations GitHub shows from one step; it drops the rest unsaid.
_SHOWN = 10


def github_commands(records, fixture_records, settings, environ=None):
    """The workflow command lines of the run's new leaks, in the order of the report."""
    environ = os.environ if environ is None else environ
    root = environ.get("GITHUB_WORKSPACE") or os.getcwd()
    command = "error" if settings.leaks == "fail" else "warning"
    pairs = [(record, leak) for record in list(records) + list(fixture_records)
             for leak in record.leaks if not leak.known]
    groups = [(owner, place, group) for owner, leaks in by_owner(pairs).items()
              for place, group in _by_place(leaks, root).items()]
    if len(groups) <= _SHOWN:
        return [_command(command, *group) for group in groups]
    lines = [_command(command, *group) for group in groups[:_SHOWN - 1]]
    rest = groups[_SHOWN - 1:]
    entries = sum(len(group) for _, _, group in rest)
    title = "tempguard: %d more leak groups" % len(rest)
    message = ("GitHub shows %d annotations of a kind from a step; %d more groups (a test and"
               " a line) left %d %s, listed in tempguard's section of the log and in its JSON"
               " report" % (_SHOWN, len(rest), entries, _entries(entries)))
    lines.append("::%s title=%s::%s" % (command, _property(title), _data(message)))
    return lines


def write_github(stream, records, fixture_records, settings):
    """Write github_commands() to *stream*, a line each."""
    for line in github_commands(records, fixture_records, settings):
        stream.write(line + "\n")
    stream.flush()


def _by_place(leaks, root):
    """*leaks* grouped by _place(), in the order they came."""
    groups = collections.OrderedDict()
    for leak in leaks:
        groups.setdefault(_place(leak.origin, root), []).append(leak)
    return groups


def _command(command, owner, place, group):
    """The workflow command for *owner*'s *group* of leaks made at *place*."""
    filename, line = place
    properties = []
    if filename is not None:
        properties += ["file=" + _property(filename), "line=%d" % line]
    properties.append("title=" + _property("tempguard: %d leaked temporary %s" % (
        len(group), _entries(len(group)))))
    names = ", ".join(display(leak.path) for leak in group[:_NAMED])
    more = " and %d more" % (len(group) - _NAMED) if len(group) > _NAMED else ""
    message = "%s left %s%s" % (display(owner), names, more)
    return "::%s %s::%s" % (command, ",".join(properties), _data(message))


def _entries(count):
    return "entry" if count == 1 else "entries"


def _place(origin, root):
    """(file relative to *root*, line) of the innermost frame inside *root* (the
    repository) that made the leak, else (file, line) of the innermost frame; (None,
    None) where nothing shows where it was made."""
    if not (isinstance(origin, dict) and "file" in origin):
        return None, None
    frames = [origin] + list(origin.get("stack", ()))
    inside = root.rstrip(os.sep) + os.sep
    for frame in frames:
        filename = os.path.abspath(frame["file"])
        if filename.startswith(inside):
            return os.path.relpath(filename, root), frame["line"]
    return frames[0]["file"], frames[0]["line"]


def _data(text):
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text):
    return _data(text).replace(":", "%3A").replace(",", "%2C")
