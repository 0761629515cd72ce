"""The records of a run as they cross processes: one writer, one reader, a version.

Records travel from the test process to its supervisor (see handoff), from
pytest-xdist's workers to their controller and from Django's workers to
their parent. The origin that the thousands of leaks of one line share is
written once. A reader refuses a payload of another version, rather than
guess at it: the processes of one run are always the same tempguard.
"""

from .records import TestRecord

__all__ = ["VERSION", "dump", "late_failures", "load"]

VERSION = 1


def dump(records, fixture_records=(), late_failures=()):
    """A JSON-ready payload of TestRecords (see load), and of *late_failures*: (owner,
    message) of leaks a Django worker confirmed after their test's line in fail mode."""
    origins, numbers = [], {}

    def numbered(origin):
        if origin is None:
            return None
        number = numbers.get(id(origin))
        if number is None:
            number = numbers[id(origin)] = len(origins)
            origins.append(origin)
        return number

    def as_json(record):
        data = record.as_json()
        for name in ("leaks", "unattributed"):
            for entry in data[name]:
                entry["origin"] = numbered(entry["origin"])
        return data

    payload = {"version": VERSION, "records": [as_json(record) for record in records],
               "fixture_records": [as_json(record) for record in fixture_records]}
    payload["origins"] = origins  # the objects stay alive while dump runs: ids hold
    if late_failures:
        payload["late_failures"] = [[owner, message] for owner, message in late_failures]
    return payload


def late_failures(payload):
    """The (owner, message) pairs given to dump() as *late_failures*."""
    return [(owner, message) for owner, message in payload.get("late_failures", ())]


def load(payload):
    """(records, fixture_records) from a payload of dump(), taken out of *payload* so that
    the parsed JSON of thousands of leaks is let go as it is read. Raises ValueError
    if it is not of this version."""
    if not isinstance(payload, dict) or payload.get("version") != VERSION:
        raise ValueError("records of another tempguard (wire version %r, not %d)"
                         % (payload.get("version") if isinstance(payload, dict) else None,
                            VERSION))
    origins = payload.pop("origins")
    loaded = []
    for key in ("records", "fixture_records"):
        records = []
        for data in payload.pop(key):
            for name in ("leaks", "unattributed"):
                for entry in data.get(name, ()):
                    number = entry["origin"]
                    entry["origin"] = None if number is None else origins[number]
            records.append(TestRecord.from_json(data))
        loaded.append(records)
    return loaded[0], loaded[1]
