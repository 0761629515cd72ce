"""What appears in the sandbox and the watched directories, seen through their descriptors.

A DirectoryWatch lists one directory only when its mtime says something may
have changed; an Observation is one stretch of time over all of a session's
watches, and turns what appeared in it into candidates for judgement.
"""

import time

from .real import os
from . import ownership as _ownership
from . import sandbox as _sandbox
from .cleanup import inode_key

__all__ = ["DirectoryWatch", "Observation", "ignore"]


class DirectoryWatch(object):
    """Notices entries that appear in a directory, listing it through its descriptor.

    A full listing is taken only when the directory's mtime moved, or was too
    recent to trust, so an idle directory with many entries costs one fstat.
    """

    def __init__(self, held, where, ignored=()):
        self.held = held
        self.path = held.path
        self.where = where
        self.ignored = ignored  # prefixes of names that belong to the harness
        self.ignored_names = set()  # names that belong to the harness (see ignore_entry)
        self._names = frozenset()
        self._mtime = None
        self._trusted = False

    def close(self):
        self.held.close()

    def mark(self):
        """The entries now; pass it to appeared_since() later."""
        if not self._is_unchanged():
            self._relist()
        return self._names

    def appeared_since(self, mark):
        """Names that exist now and did not at *mark*."""
        if self._names is mark and self._trusted:  # _is_unchanged(), written out: twice a test
            try:
                if self.held.fstat().st_mtime_ns == self._mtime:
                    return []
            except OSError:
                pass
        self._relist()
        return sorted(self._names - mark)

    def _is_unchanged(self):
        try:
            return self._trusted and self.held.fstat().st_mtime_ns == self._mtime
        except OSError:
            return False

    def _relist(self):
        try:
            before = self.held.fstat().st_mtime_ns
            names = frozenset(self.held.names())
            after = self.held.fstat().st_mtime_ns
        except OSError:
            self._names, self._mtime, self._trusted = frozenset(), None, False
            return
        # An entry added within the filesystem's timestamp granularity of our
        # listing could leave the mtime unchanged: trust only older mtimes.
        granularity = 2.0 if after % 1000000000 == 0 else 0.05
        self._trusted = before == after and time.time() - after / 1e9 > granularity
        # The same entries keep the same set: marks taken before still match it (is).
        self._names = self._names if names == self._names else names
        self._mtime = after


class Observation(object):
    """What appeared in the sandbox and the watched directories during one stretch of time."""

    def __init__(self, session, continuing=False):
        self.session = session
        # Continuing: a stretch that starts exactly where the last one was checked.
        self._marks = ([watch._names for watch in session.all_watches] if continuing
                       else [watch.mark() for watch in session.all_watches])
        self._atexit_mark = len(_ownership.atexit_log.handlers)  # atexit_mark(), once a test

    def appeared(self, owner, record, exclude=(), owners=None):
        """Candidates seen now: entries new since the start, minus the paths in *exclude*.

        *owners* maps a path to a more precise owner id (a subTest's).
        """
        found = []
        for watch, names in zip(self.session.all_watches, self._marks):
            new = watch.appeared_since(names)
            if not new:
                continue  # the common case, twice a test: one fstat, nothing else
            new = [name for name in new
                   if _ownership.entry_path(watch.path, name) not in exclude and not (
                       watch.where == "outside" and (_sandbox.is_run_root_name(name)
                                                     or name.startswith(watch.ignored)
                                                     or name in watch.ignored_names))]
            recorder = self.session.origins
            for name, st in zip(new, watch.held.stats(new)):
                path = _ownership.entry_path(watch.path, name)
                if st is None or self.session.judge.is_judged(watch.held, name, inode_key(st)):
                    continue
                origin = recorder.origin_of(path) if recorder is not None else None
                if origin is None and recorder is not None and watch.where == "sandbox":
                    origin = recorder.started_hint()
                found.append(_ownership.Candidate(
                    watch.held, name, inode_key(st), _ownership.kind_of(st.st_mode),
                    watch.where, (owners or {}).get(path, owner), record, self._atexit_mark,
                    origin))
        return found

    def children_of(self, scope):
        """Candidates for what stands in a child dir now."""
        found = []
        for name in scope.held.names():
            st = scope.held.stat(name)
            if st is not None:
                found.append(_ownership.Candidate(
                    scope.held, name, inode_key(st), _ownership.kind_of(st.st_mode),
                    "sandbox", scope.owner, scope.record, self._atexit_mark,
                    scope.origin(name)))
        return found


def ignore(watches, path, prefix=False):
    """*path*, an entry of a watched directory, is never a candidate; with *prefix*, no
    name that starts with its name is. Its directory is found by identity, not by
    spelling."""
    try:
        st = os.stat(os.path.dirname(path))
    except OSError:
        return
    name = os.path.basename(path)
    for watch in watches:
        if watch.held.identity == inode_key(st):
            if prefix:
                watch.ignored += (name,)
            else:
                watch.ignored_names.add(name)
