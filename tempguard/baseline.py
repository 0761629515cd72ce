"""Known leaks: a baseline file of them, matched against a run's leaks, and rewritten on request.

A team turns on ``--leaks fail`` with its leaks recorded (--update-baseline):
leaks the baseline lists are reported as known and never fail, new ones
follow --leaks, and entries that no longer happen are reported as fixed, so
that the baseline only shrinks. The file is text for review in a diff, one
entry a line, its four fields separated by tabs::

    TEST    KIND    WHERE    NAME

WHERE is the line of the project's code that made the leak, relative to the
baseline's directory (``tests/test_x.py:12 in test_a``), or ``-`` where
nothing shows it (Python 3.6 and 3.7, --origins off, a child's file). NAME
is the entry's name with what is random in it abstracted as ``*``: the eight
characters tempfile adds, runs of digits, UUIDs (``tmp*.txt``). Where the
origin shows tempfile's call, its prefix and suffix are kept and only its
random part is ``*``; elsewhere the random part is found by position (see
name_pattern), so a word of the caller's is never taken for it. A leak
matches an entry of its test (its owner's id) and kind that was made at the
same line, or in the same function of the same file, since lines move as
code is edited; where either does not know where it was made, by NAME.
"""

import collections
import re

from .real import os
from .held import locked_directory
from .inputs import read_text
from .jsonreport import write_text
from .output import display

__all__ = ["Baseline", "Entry", "name_pattern", "resolve"]

Entry = collections.namedtuple("Entry", "test kind where name")
Entry.__doc__ = "One known leak: its owner's id, kind, where it was made and its name's pattern."

_HEADER = ("# tempguard baseline: known leaks, one a line: test, kind, where made, name\n"
           "# (tab-separated). Written by --update-baseline; see docs/ci.rst.\n")
_UNKNOWN = "-"
_KINDS = ("file", "dir", "other")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_RANDOM_LENGTH = 8  # tempfile's _RandomNameSequence: 8 of a-z, 0-9 and _
_RANDOM_RUN = re.compile(r"[a-z0-9_]{%d,}" % _RANDOM_LENGTH)
_DIGITS = re.compile(r"[0-9]+")
_STARS = re.compile(r"\*+")
# An owner that is a scope's fixture: "setUpClass (mod.Class)", "fixture db (tests/x.py)".
_SCOPED = re.compile(r"^(?:setUpClass|setUpModule|import|fixture \S+) \((.*)\)$")


def name_pattern(name, origin=None):
    """*name* with its random parts as ``*``: the same for every name one call makes.

    Where the *origin* (see origins) shows tempfile's call, its prefix and
    suffix place the random part exactly; where it shows other code made the
    entry, there is none. Where nothing shows who made it, the random part is
    found by position: after a leading ``tmp`` (tempfile's default prefix),
    else the last eight characters of the last run of eight or more of
    tempfile's characters; one part, never a word of the suffix
    (``tmp*.evidence``). Digits and UUIDs anywhere are ``*`` too. Each rule
    looks only at where characters are, never at which random ones came up,
    so two names from one call agree.
    """
    seen = isinstance(origin, dict) and "file" in origin
    affixes = origin.get("tempfile_affixes") if seen else None
    if affixes is not None:
        prefix, suffix = affixes
        if (len(name) == len(prefix) + _RANDOM_LENGTH + len(suffix)
                and name.startswith(prefix) and name.endswith(suffix)):
            return _abstracted(prefix) + "*" + _abstracted(suffix)
    name = _UUID.sub("*", name)
    runs = [] if seen else list(_RANDOM_RUN.finditer(name))
    if name.startswith("tmp") and runs and runs[0].start() == 0 \
            and runs[0].end() >= 3 + _RANDOM_LENGTH:
        start = 3
    elif runs:
        start = runs[-1].end() - _RANDOM_LENGTH
    else:
        return _abstracted(name)
    end = start + _RANDOM_LENGTH
    return _STARS.sub("*", _abstracted(name[:start]) + "*" + _abstracted(name[end:]))


def _abstracted(text):
    """*text* with its UUIDs and runs of digits as ``*``."""
    return _STARS.sub("*", _DIGITS.sub("*", _UUID.sub("*", text)))


# A baseline is a few thousand lines; /dev/zero would be read until memory ran out.
_MAX_BYTES = 64 << 20


def resolve(settings):
    """Load the baseline *settings* name into settings.baseline, once, where a run starts,
    before any test: OSError or ValueError (a usage error) naming the file and the line."""
    if settings.baseline is None and settings.baseline_path is not None:
        settings.baseline = Baseline.load(settings.baseline_path, settings.update_baseline)
    return settings


class Baseline(object):
    """The entries of a baseline file at *path*; with *update*, the run rewrites it."""

    def __init__(self, path, entries=(), update=False):
        self.path = path
        self.root = os.path.dirname(path)
        self.project = os.getcwd()  # where the run started: the baseline is loaded then
        self.entries = list(entries)
        self.update = update
        self._at = {}  # (test, kind, where): entry
        self._in = {}  # (test, kind, file and function): entry, to match after lines moved
        self._named = {}  # (test, kind, name): [entries]
        self._listed = set(self.entries)
        for entry in self.entries:
            self._at.setdefault(entry[:3], entry)
            self._in.setdefault(entry[:2] + (_function(entry.where),), entry)
            self._named.setdefault((entry.test, entry.kind, entry.name), []).append(entry)

    @classmethod
    def load(cls, path, update=False):
        """The baseline at *path*. Raises OSError if it cannot be read (unless *update*
        and there is none yet) and ValueError naming the line that is not an entry."""
        path = os.path.abspath(os.fspath(path))
        try:
            lines = read_text(path, "baseline", _MAX_BYTES).splitlines()
        except FileNotFoundError:
            if update:
                return cls(path, (), update)
            raise FileNotFoundError("baseline %s: no such file (--update-baseline writes it)"
                                    % path)
        entries = []
        for number, line in enumerate(lines, 1):
            if not line.strip() or line.startswith("#"):
                continue
            fields = line.split("\t")
            if len(fields) != 4 or fields[1] not in _KINDS or not all(fields):
                raise ValueError("baseline %s, line %d: not an entry (test, kind (%s), where, "
                                 "name; tab-separated): %s" % (path, number, ", ".join(_KINDS),
                                                               display(line)))
            entries.append(Entry(*fields))
        return cls(path, entries, update)

    def entry_of(self, owner, leak):
        """The Entry *leak* of *owner* (a test, subTest or fixture id) would be."""
        return Entry(display(owner), leak.kind, self._where(leak.origin),
                     display(name_pattern(os.path.basename(leak.path), leak.origin)))

    def marked(self, leak, record_id):
        """*leak* (of the record *record_id*), known if the baseline lists it or is being
        rewritten: a run that records its leaks does not fail for them."""
        if self.update or self.match(self.entry_of(leak.owner or record_id, leak)):
            return leak._replace(known=True)
        return leak

    def match(self, entry):
        """The baseline's entry that *entry* (a leak's, see entry_of) matches, or None: the
        same entry if it is listed (one line may make leaks of several names, each an
        entry of its own), else one of the same place, or of the same name."""
        if entry in self._listed:
            return entry
        if entry.where != _UNKNOWN:
            found = (self._at.get(entry[:3])
                     or self._in.get(entry[:2] + (_function(entry.where),)))
            if found is not None:
                return found
        for candidate in self._named.get((entry.test, entry.kind, entry.name), ()):
            if _UNKNOWN in (candidate.where, entry.where):
                return candidate
        return None

    def fixed(self, records, fixture_records):
        """The entries that no leak of this run matched, of tests that ran: those fixed."""
        matched = set(self._matched(records, fixture_records))
        ran = _RanTests(records)
        return [entry for entry in self.entries if entry not in matched and ran(entry.test)]

    def rewritten(self, records, fixture_records):
        """The entries of an updated baseline: this run's leaks, and the entries of tests
        that did not run (a shard's run rewrites only its own tests' entries)."""
        ran = _RanTests(records)
        entries = collections.OrderedDict(
            (entry, None) for entry in self.entries if not ran(entry.test))
        for entry in self._entries_of(records, fixture_records):
            entries.setdefault(entry, None)
        return sorted(entries)

    def rewrite(self, records, fixture_records):
        """Write the rewritten entries (see rewritten) atomically, and return them.

        Under a lock on the file's directory, the file is read again first: the
        other processes of a parallel run rewrite it too, each for its own tests.
        """
        with locked_directory(self.root):
            entries = Baseline.load(self.path, update=True).rewritten(records, fixture_records)
            write_text(self.path, _HEADER + "".join("\t".join(entry) + "\n"
                                                    for entry in entries))
        return entries

    def _entries_of(self, records, fixture_records):
        for record in list(records) + list(fixture_records):
            for leak in record.leaks:
                yield self.entry_of(leak.owner or record.id, leak)

    def _matched(self, records, fixture_records):
        for entry in self._entries_of(records, fixture_records):
            found = self.match(entry)
            if found is not None:
                yield found

    def _where(self, origin):
        """"file:line in function" of the innermost frame of the project's code that made
        it, relative to the baseline's directory, or to the project (the directory the
        run started in) for a baseline kept elsewhere; else of the innermost frame by
        file name."""
        frames = ([origin] + list(origin.get("stack", ()))
                  if isinstance(origin, dict) and "file" in origin else [])
        if not frames:
            return _UNKNOWN
        for root in (self.root, self.project):
            inside = root.rstrip(os.sep) + os.sep
            for frame in frames:
                filename = os.path.abspath(frame["file"])
                if filename.startswith(inside):
                    return _at(os.path.relpath(filename, root), frame)
        return _at(os.path.basename(frames[0]["file"]), frames[0])


def _at(filename, frame):
    return display("%s:%d in %s" % (filename.replace(os.sep, "/"), frame["line"],
                                    frame["function"]))


def _function(where):
    """"file in function" of a WHERE field: the same after the line moved."""
    place, _, function = where.partition(" in ")
    return "%s in %s" % (place.rpartition(":")[0], function)


class _RanTests(object):
    """Whether an entry's test ran in this run: a test, a subTest of one, or a fixture of
    a scope (a class, module, node) one of them was in. "run" always ran."""

    def __init__(self, records):
        self._ids = set(record.id for record in records)

    def __call__(self, test):
        if test == "run" or test in self._ids:
            return True
        scoped = _SCOPED.match(test)
        if scoped is not None:
            scope = scoped.group(1)
            if scope in ("session", "the tests", "function"):
                return bool(self._ids)
            prefixes = (scope + ".", scope + "::", scope + "/")
            return scope in self._ids or any(i.startswith(prefixes) for i in self._ids)
        return any(test.startswith(i + " ") for i in self._ids)  # a subTest's id
