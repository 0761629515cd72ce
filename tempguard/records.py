"""What a run records of each test and fixture: what it made, cleaned, leaked and kept.

Records are made in the test process and judged, merged and reported in
others (see wire); what they hold is JSON-ready.
"""

import collections

__all__ = ["Leak", "TestRecord", "by_owner", "failing", "has_news", "run_record", "summed",
           "worse_outcome"]

Leak = collections.namedtuple("Leak", "path kind where judged owner origin known")
Leak.__new__.__defaults__ = (None, False)
Leak.__doc__ = """A leaked entry: kind is file, dir or other; where is sandbox or outside;
judged is the level it was confirmed at (one of ownership.LEVELS: test, class,
module, run, child once the processes that could still write it had exited, exit);
owner is the test, subTest or fixture id it is attributed to; origin is
where it was made (see origins and children), or None; known if the run's
baseline lists it (see baseline): it is reported, and never fails."""


class TestRecord(object):
    """What one test (or fixture) made, cleaned, leaked and kept."""

    __test__ = False  # a Test*-named class that pytest must not collect

    # leaks; unattributed (Leak-shaped: appeared outside meanwhile, not shown to be ours);
    # not_kept ("path: reason" of what was left out of the kept directory); cleanup_errors;
    # notes: lists made when first used (see _ListOnUse).
    __slots__ = ("id", "outcome", "created", "cleaned", "bytes", "cleanup_seconds", "_leaks",
                 "_unattributed", "kept", "_not_kept", "_cleanup_errors", "_notes", "is_listed",
                 "failure")

    def __init__(self, test_id, is_listed=True):
        self.id = test_id
        self.is_listed = is_listed  # a fixture's record is listed once it has something to say
        self.outcome = None
        self.created = self.cleaned = self.bytes = 0
        self.cleanup_seconds = 0.0
        self._leaks = self._unattributed = self._not_kept = None
        self._cleanup_errors = self._notes = None
        self.kept = None
        self.failure = None  # the first line of its failure or error, for the kept manifest

    def has_news(self):
        """True if it has more to say than what it made and cleaned."""
        return bool(self._leaks or self._unattributed or self.kept or self._not_kept
                    or self._cleanup_errors or self._notes)

    def note_failure(self, text):
        """Keep the first line of the test's first failure: of a traceback, the first line
        of the exception it ends with ("AssertionError: 1 != 2")."""
        if self.failure is not None or not text:
            return
        text = str(text).rpartition("Traceback (most recent call last):")[2]
        lines = [line for line in text.splitlines() if line.strip()]
        unindented = [line for line in lines if not line[:1].isspace()]
        self.failure = (unindented or lines or [None])[0]

    def add_cleanup(self, context_stats, result):
        self.created += context_stats.created + context_stats.adopted
        self.cleaned += result.removed
        self.bytes += context_stats.bytes
        self.add_removal(result)

    def add_removal(self, result):
        self.cleanup_seconds += result.seconds
        for problem in result.problems:
            (self.notes if problem.replaced or problem.in_use else
             self.cleanup_errors).append(str(problem))

    def as_json(self):
        # The slots, not the lists: reading those would make them (see _ListOnUse).
        return {"id": self.id, "outcome": self.outcome, "created": self.created,
                "cleaned": self.cleaned, "bytes": self.bytes,
                "leaks": [dict(leak._asdict()) for leak in self._leaks or ()],
                "unattributed": [dict(entry._asdict()) for entry in self._unattributed or ()],
                "kept": self.kept, "not_kept": list(self._not_kept or ()),
                "cleanup_errors": list(self._cleanup_errors or ()),
                "notes": list(self._notes or ()), "cleanup_seconds": self.cleanup_seconds,
                "failure": self.failure}

    @classmethod
    def from_json(cls, data):
        record = cls(data["id"])
        for name in ("outcome", "created", "cleaned", "bytes", "kept", "cleanup_errors",
                     "notes", "cleanup_seconds"):
            setattr(record, name, data[name])
        record.not_kept = list(data.get("not_kept", ()))
        record.failure = data.get("failure")
        record.leaks = [_leak(leak) for leak in data["leaks"]]
        record.unattributed = [_leak(entry) for entry in data.get("unattributed", ())]
        return record


class _ListOnUse(object):
    """A record's list attribute, made when first read: a record is kept for every test
    of a run, and most never use theirs; five empty lists a test were five more objects
    for the garbage collector to walk, again and again, as the run grew."""

    def __init__(self, slot):
        self._slot = slot

    def __get__(self, record, owner=None):
        if record is None:
            return self
        value = self._slot.__get__(record, owner)
        if value is None:
            value = []
            self._slot.__set__(record, value)
        return value

    def __set__(self, record, value):
        self._slot.__set__(record, value)


for _name in ("leaks", "unattributed", "not_kept", "cleanup_errors", "notes"):
    setattr(TestRecord, _name, _ListOnUse(getattr(TestRecord, "_" + _name)))


def _leak(data):
    """A Leak from its JSON; what a report adds (path_bytes) is left out."""
    return Leak(**{name: data[name] for name in Leak._fields if name in data})


# A test's outcomes, mildest first: a test that had several (subTests, phases) has the worst.
_OUTCOME_RANK = ("passed", "skipped", "expected_failure", "unexpected_success", "failed", "error")


def worse_outcome(current, new):
    """The worse of two outcomes of one test."""
    return new if _OUTCOME_RANK.index(new) > _OUTCOME_RANK.index(current) else current


def by_owner(pairs):
    """{owner id: [leaks]} of (record, leak) *pairs*, in their order: a subTest's or a
    fixture's leaks under its own id, the rest under their record's."""
    owners = collections.OrderedDict()
    for record, leak in pairs:
        owners.setdefault(leak.owner or record.id, []).append(leak)
    return owners


def failing(confirmed):
    """[(record, leaks)] of *confirmed* ([(record, leaks)]) with the known leaks (see
    baseline) left out, and records left with none dropped: what may fail a test."""
    found = []
    for record, leaks in confirmed:
        new = [leak for leak in leaks if not leak.known]
        if new:
            found.append((record, new))
    return found


def has_news(record):
    """True if *record* has more to say than what it made and cleaned."""
    return record.has_news()


def run_record(fixture_records):
    """The run's own record among *fixture_records*; added if there is none yet."""
    for record in fixture_records:
        if record.id == "run":
            return record
    fixture_records.append(TestRecord("run"))
    return fixture_records[-1]


def summed(records):
    """One record holding what *records* made and cleaned: they count, nothing else to say."""
    total = TestRecord("(the other tests)")
    for record in records:
        total.created += record.created
        total.cleaned += record.cleaned
        total.bytes += record.bytes
        total.cleanup_seconds += record.cleanup_seconds
    return total
