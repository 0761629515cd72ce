"""The hand-off: what a supervised run's test process passes to its supervisor, and how.

The payload's one writer (dump) and one reader (load) are here: the records
(see wire), what waits to be judged after exit, the children still running,
unittest's counts and its deferred closing lines.

The channel is an anonymous file in memory (a memfd), made before the fork
and held by both processes. Nothing a test can break is needed to use it:
not the run root (a test may remove it), the disk (full), the umask, the
fd limit (no new descriptor is opened) or the low fd numbers (it sits high,
and is checked to still be the file made before it is written). If a test
closed the test process's copy, it is reopened through the supervisor's.
"""

import collections
import errno
import json

from .real import os
from . import capabilities as _capabilities
from . import wire as _wire
from .cleanup import inode_key
from .errors import HandleLostError
from .held import anonymous_file, high_fd, holds
from .records import has_news, summed

__all__ = ["Channel", "Handoff", "Handover", "Lingering", "Waiting", "dump",
           "load", "refusal"]


# Pieces of encoded JSON written at a time (see Channel.send).
_CHUNK_PIECES = 16384

# An entry left to be judged after exit; *confirmed* if it was judged already and waits
# only to be removed, *kept* the kept dir (path, identity) it waits to be moved into.
Waiting = collections.namedtuple(
    "Waiting", "where dir name identity kind owner record confirmed origin kept")
# The dir of children that still ran when the test process ended.
Lingering = collections.namedtuple("Lingering", "path owner record processes names_at_end")
# What load() returns; usage_error is the text of a usage error, when no test ran.
Handoff = collections.namedtuple(
    "Handoff", "records fixture_records waiting children_running counts tail reported "
               "usage_error")


class Handover(object):
    """The test process's side of one hand-off over *channel*: made once it is made.

    Cut short (a second Ctrl-C while it is encoded), it is not made: it is
    made again at exit, since what was judged is removed and must be reported.
    """

    def __init__(self, channel):
        self._channel = channel
        self.done = False
        self.problem = None  # the OSError that lost the channel, if one did

    def send(self, judge, records, fixture_records, children_running, counts=None, tail=None,
             complete=True):
        """Hand over what *judge* left waiting for exit, with the rest (see dump); False
        if it was made already or the channel was lost."""
        if self.done:
            return False
        waiting = [Waiting(c.where, c.place.path, c.name, c.identity, c.kind, c.owner, c.record,
                           confirmed, c.origin, judge.pending_move(c))
                   for c, confirmed in judge.waiting_for_exit()]
        try:
            self._channel.send(dump(records, fixture_records, waiting, children_running,
                                    counts, tail, complete))
        except OSError as error:
            self.done, self.problem = True, error
            return False
        self.done = True
        return True

    def refuse(self, error):
        """No test runs: a usage error (*error*, its text) was found before the first."""
        self.done = True
        self._channel.send(refusal(error))


def dump(records, fixture_records, waiting, children_running, counts=None, tail=None,
         complete=True):
    """The payload for load(): the run's records; *waiting*, [Waiting] with candidates'
    records; *children_running*, [ChildDir]; unittest's *counts* and *tail*.

    Unless *complete* (a JSON report or a baseline needs them all), only the records with
    something to say travel; the rest are summed into one, which keeps the totals.
    """
    counts = dict(counts or {}, passed=sum(1 for r in records if r.outcome == "passed"))
    news = [record for record in records + fixture_records if has_news(record)]
    reported = sorted(set(os.path.basename(leak.path) for record in news
                          for leak in record.leaks if leak.where == "sandbox"))
    if not complete:
        travel = set(id(entry.record) for entry in waiting).union(
            [id(scope.record) for scope in children_running], [id(r) for r in news])
        rest = [r for r in records + fixture_records if id(r) not in travel]
        records = [r for r in records if id(r) in travel]
        fixture_records = [r for r in fixture_records if id(r) in travel]
        fixture_records.append(summed(rest))
    index = {id(record): number for number, record in enumerate(records + fixture_records)}
    return dict(_wire.dump(records, fixture_records), **{
        "waiting": [dict(entry._asdict(), identity=list(entry.identity),
                         record=index[id(entry.record)]) for entry in waiting],
        "children_running": [
            {"path": scope.path, "owner": scope.owner, "record": index[id(scope.record)],
             "processes": [list(process) for process in scope.processes],
             "names_at_end": sorted(scope.names_at_end or ())}
            for scope in children_running],
        "counts": counts, "tail": tail, "reported": reported})


def refusal(error):
    """The payload of a run that found a usage error (*error*, its text) before any test."""
    return {"version": _wire.VERSION, "usage_error": error}


def load(payload):
    """A Handoff from a payload of dump() or refusal(). Raises ValueError if it is of
    another version (see wire.load)."""
    if isinstance(payload, dict) and "usage_error" in payload:
        if payload.get("version") != _wire.VERSION:
            raise ValueError("a hand-off of another tempguard (version %r, not %d)"
                             % (payload.get("version"), _wire.VERSION))
        return Handoff([], [], [], [], None, None, (), payload["usage_error"])
    records, fixture_records = _wire.load(payload)
    every = records + fixture_records
    waiting = [Waiting(entry["where"], entry["dir"], entry["name"], tuple(entry["identity"]),
                       entry["kind"], entry["owner"], every[entry["record"]],
                       entry["confirmed"], entry["origin"], entry["kept"])
               for entry in payload["waiting"]]
    children = [Lingering(entry["path"], entry["owner"], every[entry["record"]],
                          [tuple(process) for process in entry["processes"]],
                          frozenset(entry["names_at_end"]))
                for entry in payload["children_running"]]
    return Handoff(records, fixture_records, waiting, children, payload["counts"],
                   payload["tail"], frozenset(payload["reported"]), None)


def _pwrite_all(fd, data, offset):
    """Write all of *data* at *offset*; the offset after it."""
    done = 0
    while done < len(data):
        done += os.pwrite(fd, data[done:], offset + done)
    return offset + done


class Channel(object):
    """One hand-off from the test process to the supervisor, as JSON.

    An anonymous file, reopened through the supervisor's /proc entry if a test
    closed the test process's copy; without /proc (macOS, the BSDs), a file named
    in the run root *root*'s private directory, reopened there by name (and
    identity), and removed with the root.
    """

    _NAME = "handoff"

    def __init__(self, root=None):
        self._root = root if not _capabilities.PROC else None
        if self._root is None:
            fd = anonymous_file()
        else:
            target, at = root.held.place(self._NAME)
            fd = os.open(target, os.O_RDWR | os.O_CREAT | os.O_EXCL | _capabilities.O_NOFOLLOW
                         | _capabilities.O_CLOEXEC, 0o600, **at)
        self._fd = high_fd(fd)
        st = os.fstat(self._fd)
        self._identity = inode_key(st)
        self._supervisor = os.getpid()

    def send(self, data):
        """In the test process: hand *data* over. Raises OSError if it cannot.

        Written in chunks as it is encoded: the records of thousands of leaks
        are never held as one string besides the data.
        """
        fd, opened = self._writable()
        try:
            os.ftruncate(fd, 0)
            offset, chunk = 0, []
            for piece in json.JSONEncoder().iterencode(data):
                chunk.append(piece)
                if len(chunk) >= _CHUNK_PIECES:
                    offset = _pwrite_all(fd, "".join(chunk).encode("utf-8"), offset)
                    chunk = []
            _pwrite_all(fd, "".join(chunk).encode("utf-8"), offset)
        finally:
            if opened:
                os.close(fd)

    def receive(self):
        """In the supervisor, once the test process has exited: what it handed over,
        or None if it handed nothing over."""
        size = os.fstat(self._fd).st_size
        payload = b""
        while len(payload) < size:  # one read, unless the kernel gives less
            chunk = os.pread(self._fd, size - len(payload), len(payload))
            if not chunk:
                break  # cut short: json says so (ValueError)
            payload += chunk
        return json.loads(payload) if payload else None

    def close(self):
        """Let go of the channel; a descriptor a test closed and reused stays the test's."""
        if self._holds(self._fd):
            os.close(self._fd)

    def _writable(self):
        """(fd, whether it was opened here): this process's copy if it is still the
        channel, else the supervisor's reopened by /proc, or by name in the run root."""
        if self._holds(self._fd):
            return self._fd, False
        try:
            if self._root is None:
                fd = os.open("/proc/%d/fd/%d" % (self._supervisor, self._fd),
                             os.O_WRONLY | _capabilities.O_CLOEXEC)
            else:
                target, at = self._root.held.place(self._NAME)
                fd = os.open(target, os.O_WRONLY | _capabilities.O_NOFOLLOW
                             | _capabilities.O_CLOEXEC, **at)
        except OSError as error:
            raise HandleLostError(errno.EBADF, "a test closed tempguard's hand-off channel "
                                  "(fd %d) and it could not be reopened (%s)"
                                  % (self._fd, error.strerror)) from None
        if not self._holds(fd):
            os.close(fd)
            raise HandleLostError(errno.EBADF, "a test closed tempguard's hand-off channel "
                                  "(fd %d) and the supervisor's is not it" % self._fd)
        return fd, True

    def _holds(self, fd):
        return holds(fd, self._identity)
