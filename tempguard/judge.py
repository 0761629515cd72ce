"""Judgement: what a run's tests and fixtures left, from candidate to verdict to removal.

A candidate is an entry that appeared while a test or fixture ran, that its
tracking did not remove. The judge files it under a later owner (a class's
or module's teardown, an object alive until exit) or confirms it: a leak of
its record, or, outside the sandbox with no evidence that this run made it,
an unattributed entry. Judged sandbox leaks are removed at the end of the
run, through their directory's descriptor: a later test that reads what an
earlier one left sees it, as under unittest.
"""

import collections
import gc

from .real import os
from . import ownership as _ownership
from .cleanup import inode_key
from .records import Leak

__all__ = ["Judge", "existing", "found_in", "holds_cwd", "is_unattributed", "leak_of"]

# Windows does not remove an open file: the run's end tries again (see RunRoot.finish).
_TRIED_AGAIN = ("in use: a process has it open, and Windows does not remove an open file; "
                "tried again when the run ends")


class Judge(object):
    """The verdicts of one run: its ledger of what waits, what it confirmed, and removal.

    *on_confirm(record)* is called for each record that something was
    confirmed of (a fixture's record is then listed in the report);
    *hint_pids(record)* gives the pids of the run's children that were
    running while *record*'s stretch ran (see unattributed_of).
    """

    def __init__(self, settings, on_confirm=lambda record: None, hint_pids=lambda record: (),
                 keeper=None):
        self.settings = settings
        self.ledger = _ownership.Ledger()
        self.unremoved = []  # confirmed dirs that hold the cwd: removed once it has left them
        self._on_confirm = on_confirm
        self._hint_pids = hint_pids
        # Judged sandbox leaks, removed at the end of the run: no later stretch (an
        # outer test, the next test) is blamed for them (see is_judged).
        self._judged = []
        self._judged_keys = set()
        self.keeper = keeper  # where failed tests' leftovers wait to be moved (see keep)

    def settle(self, candidates):
        """The candidates that still exist.

        No garbage collection is forced: finalizers would run at tempguard's
        moment, not the program's, and what they print (ResourceWarnings) would
        move to another test's line. An object that will remove an entry when
        collected is found alive instead, reachable or not (see exit_owned).
        """
        return existing(candidates) if candidates else []

    def judge(self, candidates, level, later_owner):
        """File existing candidates under *later_owner*, or under exit if something will
        remove them then; confirm the rest as judged at *level*.

        Returns [(record, leaks)] confirmed, grouped by record.
        """
        if not candidates:
            return []
        if later_owner is not None:
            self.ledger.hold(later_owner, candidates)
            return []
        owned = _ownership.exit_owned(candidates)
        if owned:
            self.ledger.hold("exit", [c for c in candidates
                                      if _ownership.candidate_path(c) in owned])
            candidates = [c for c in candidates if _ownership.candidate_path(c) not in owned]
        return self.confirm(candidates, level)

    def judge_held(self, key, level, later_owner=None, also=()):
        """Judge what waited under *key* in the ledger, with the candidates *also*."""
        return self.judge(self.settle(list(also) + self.ledger.take(key)), level, later_owner)

    def judge_exit(self):
        """Judge what waited for exit, from an atexit handler: ([(record, leaks)], owned).

        Finalizers that have not run yet (they registered before us, so run
        after us) still own what they name: that is left in place, and *owned*
        is True, so that the run root is left to be pruned.
        """
        waiting = self.ledger.take("exit")
        if waiting:
            gc.collect()  # the tests' output is done: no program's event moves any more
        waiting = existing(waiting)
        owned = _ownership.exit_owned(waiting, handlers=False)
        late = self.confirm([c for c in waiting
                             if _ownership.candidate_path(c) not in owned], "exit")
        self.remove_judged()
        self.remove(self.unremoved, allow_cwd=True)
        self.unremoved = []
        return late, bool(owned)

    def confirm(self, candidates, level):
        """Confirm *candidates* as judged at *level*: leaks, or unattributed entries (see
        is_unattributed); [(record, leaks)]. Sandbox entries are removed at the end."""
        by_record = collections.OrderedDict()
        for candidate in candidates:
            if is_unattributed(candidate, self.settings):
                candidate.record.unattributed.append(self.unattributed_of(candidate, level))
            else:
                leak = leak_of(candidate, level, self.settings.baseline)
                candidate.record.leaks.append(leak)
                by_record.setdefault(id(candidate.record), (candidate.record, []))[1].append(leak)
            self._on_confirm(candidate.record)
            if candidate.where == "sandbox":
                self._judged.append(candidate)
                self._judged_keys.add((id(candidate.place), candidate.name, candidate.identity))
        return list(by_record.values())

    def keep_judged(self, record):
        """Keep the sandbox entries of *record* judged so far, as a failed test's: its
        leaks, confirmed after its line, failed it (see TestGuard.finish)."""
        if self.keeper is not None:
            self.keeper.keep(record, [], [c for c in self._judged if c.record is record])

    def preview(self, candidates, level):
        """The leaks *candidates* would be if judged now at *level*, recording nothing:
        what a test asks of itself mid-way (see TestGuard.find_leaks)."""
        owned = _ownership.exit_owned(candidates)
        return [leak_of(candidate, level, self.settings.baseline) for candidate in candidates
                if not is_unattributed(candidate, self.settings)
                and _ownership.candidate_path(candidate) not in owned]

    def unattributed_of(self, candidate, level):
        """*candidate* as an unattributed entry. If children of the run were running
        meanwhile, their pids are a hint in its origin, not evidence: a child's
        files are attributed only in the temp dir it was given."""
        pids = sorted(set(self._hint_pids(candidate.record)))
        entry = leak_of(candidate, level)
        return entry._replace(origin={"children_alive": pids}) if pids else entry

    def is_judged(self, place, name, identity):
        """True for a sandbox entry already judged, waiting to be removed."""
        return (id(place), name, identity) in self._judged_keys

    def waits_for_exit(self):
        """True if some entry can be judged (or removed) only after interpreter exit."""
        return bool(self.ledger.waiting("exit") or self.unremoved)

    def waiting_for_exit(self):
        """[(candidate, confirmed)]: what waits for exit, for a supervisor to judge (or,
        if confirmed, only remove) after it. Left in place: a hand-off cut short is
        made again."""
        return ([(c, False) for c in self.ledger.waiting("exit")]
                + [(c, True) for c in self.unremoved])

    def remove_judged(self):
        """Remove the sandbox entries judged so far (see confirm)."""
        judged, self._judged = self._judged, []
        self._judged_keys = set()
        self.remove(judged)

    def pending_move(self, candidate):
        """The kept directory (path, identity) that *candidate* waits to be moved into,
        or None (see Keeper.keep_when_confirmed)."""
        return None if self.keeper is None else self.keeper.pending_move(candidate)

    def remove(self, candidates, allow_cwd=False):
        """Remove confirmed entries through their directory's descriptor, or move them
        into their kept directory; never the cwd unless *allow_cwd*."""
        by_record = collections.OrderedDict()
        for candidate in candidates:
            if (not allow_cwd and candidate.kind == "dir"
                    and holds_cwd(_ownership.candidate_path(candidate))):
                self.unremoved.append(candidate)  # removed once the process has left it
                continue
            if self.keeper is not None and self.keeper.move_if_waiting(candidate):
                continue
            key = (id(candidate.record), id(candidate.place))
            by_record.setdefault(key, (candidate.record, []))[1].append(candidate)
        for record, group in by_record.values():
            place = group[0].place
            record.add_removal(place.remove([(c.name, c.identity) for c in group])
                               .say_in_use(_TRIED_AGAIN))


def is_unattributed(candidate, settings):
    """True for an entry outside the sandbox that nothing shows this run made: the
    audit hook saw no process of the run make it. Never a leak, unless *settings*
    say the temp dir is private (outside = strict)."""
    return (candidate.where == "outside" and candidate.origin is None
            and settings.outside != "strict")


def leak_of(candidate, level, baseline=None):
    """The Leak a confirmed candidate is, judged at *level*; known if *baseline* lists it."""
    leak = Leak(_ownership.candidate_path(candidate), candidate.kind, candidate.where,
                level, candidate.owner, candidate.origin)
    return leak if baseline is None else baseline.marked(leak, candidate.record.id)


def found_in(place, names, owner, record, origin_of):
    """Candidates of the entries *names* of *place* (a HeldDirectory) as they are now,
    owned by *owner* (*record* its record), made as *origin_of(name)* says: what a
    process that ended left unjudged, for a supervisor or controller to confirm."""
    found = []
    for name in names:
        st = place.stat(name)
        if st is not None:
            found.append(_ownership.Candidate(place, name, inode_key(st),
                                              _ownership.kind_of(st.st_mode), "sandbox",
                                              owner, record, 0, origin_of(name)))
    return found


def existing(candidates):
    """The candidates that are still the entry that was seen; a replacement is noted
    on its record, and left alone."""
    found = []
    for candidate in candidates:
        state = _ownership.state_of(candidate)
        if state == "same":
            found.append(candidate)
        elif state == "replaced":
            candidate.record.notes.append(
                "%s: replaced by another entry since it was seen; left alone"
                % _ownership.candidate_path(candidate))
    return found


def holds_cwd(path):
    """True if the process's cwd is *path* or inside it."""
    try:
        cwd = os.getcwd()
    except OSError:
        return False
    real = os.path.realpath(path)
    return cwd == real or cwd.startswith(real.rstrip(os.sep) + os.sep)
