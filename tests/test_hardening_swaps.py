"""Hardening II: a test that swaps the sandbox, the run root, a directory it made, a
watched directory, or a kept directory's parent for a link cannot steer tempguard there.

tempguard holds each directory by its file descriptor; the sentinel tree the
links point to must keep its bytes, modes and mtimes, every run must finish
with its summary and exit code, and the report must name what was replaced.
Each case runs as root and as an unprivileged user.
"""

import os
import unittest

from tests import support

SWAPS = os.path.join(support.EXAMPLES, "hardening", "example_swaps.py")

# Runs in a child (see support.run_child): each swapping test in a run of its own,
# with a fresh TMPDIR, then a kept directory's parent swapped before a later run
# prunes it. Prints what it saw.
_SWAPS_CHILD = """
import shutil, subprocess, support
from tempguard import sandbox
sentinel = support.build_sentinel(os.path.join(WORK, "sentinel"))
before = support.snapshot(sentinel)
seen = {}

def run(name, test, *args, tmp=None):
    tmp = tmp or os.path.join(WORK, "tmp-" + name)
    aside = os.path.join(WORK, "aside-" + name)
    watched = os.path.join(WORK, "watched-" + name)
    for path in (tmp, aside, watched):
        os.makedirs(path, 0o700, exist_ok=True)
    report = os.path.join(WORK, name + ".json")
    env = dict(os.environ, TMPDIR=tmp, SENTINEL=sentinel, ASIDE=aside, WATCHED=watched)
    done = subprocess.run(
        [sys.executable, "-m", "tempguard.runner", "example_swaps." + test, "--watch", watched,
         "--report", report] + list(args),
        cwd=WORK, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        universal_newlines=True, timeout=120)
    data = support.load_json(report)
    seen[name] = {"code": done.returncode, "stderr": done.stderr,
                  "notes": [note for entry in data["tests"] + data["fixtures"]
                            for note in entry["notes"]],
                  "leaks": [leak["path"] for entry in data["tests"] + data["fixtures"]
                            for leak in entry["leaks"]],
                  "tmp_left": sorted(os.listdir(tmp))}
    return tmp

for name in ("sandbox_after_writing_into_it", "sandbox_before_writing_into_it", "run_root",
             "a_dir_it_made"):
    run(name, "Swaps.test_" + name)
run("watched", "WatchedSwap")
tmp = run("kept", "KeepsThenFails", "--keep-runs", "3")
root = [os.path.join(tmp, n) for n in os.listdir(tmp) if sandbox.is_run_root_name(n)][0]
shutil.rmtree(os.path.join(root, "kept"))
os.symlink(sentinel, os.path.join(root, "kept"))
run("prune", "WatchedSwap.test_2_runs_after", "--keep-runs", "0", tmp=tmp)
after = support.snapshot(sentinel)
written = after.pop("written-through-the-link", None)
after["."], before["."] = None, None
print(json.dumps({"runs": seen, "sentinel_unchanged": before == after,
                  "written_kept": written is not None}))
"""


class SwapsTest(unittest.TestCase):

    def check_swaps(self, unprivileged):
        with open(SWAPS) as handle:
            seen = support.run_child(self, _SWAPS_CHILD, unprivileged,
                                     files={"example_swaps.py": handle.read()})
        runs = seen["runs"]
        self.assertTrue(seen["sentinel_unchanged"], runs)
        self.assertTrue(seen["written_kept"], "a file the test wrote through its link was removed")
        for name, run in runs.items():
            with self.subTest(name):
                expected_code = 1 if name == "kept" else 0
                self.assertEqual(run["code"], expected_code, run["stderr"])
                self.assertIn("Ran ", run["stderr"])
                self.assertIn("tempguard: ", run["stderr"])
                self.assertFalse([leak for leak in run["leaks"] if "sentinel" in leak], run)
        for name, what in (("sandbox_after_writing_into_it", "the sandbox was replaced"),
                           ("sandbox_before_writing_into_it", "the sandbox was replaced"),
                           ("run_root", "the run root was replaced"),
                           ("watched", "the watched directory was replaced"),
                           ("prune", "kept: replaced by a link")):
            with self.subTest(name, what=what):
                self.assertEqual(sum(what in note for note in runs[name]["notes"]), 1, runs[name])
                self.assertIn("tempguard: notes", runs[name]["stderr"])
        # What the tests left in the sandbox before swapping it was still found and removed.
        self.assertTrue(runs["sandbox_after_writing_into_it"]["leaks"][0].endswith(".before-swap"))
        self.assertEqual(runs["a_dir_it_made"]["leaks"], [runs["a_dir_it_made"]["leaks"][0]])
        for name in ("sandbox_after_writing_into_it", "a_dir_it_made", "watched", "prune"):
            self.assertEqual(runs[name]["tmp_left"], [], name)

    def test_swaps_for_links_as_root(self):
        self.check_swaps(unprivileged=False)

    def test_swaps_for_links_as_unprivileged_user(self):
        self.check_swaps(unprivileged=True)


if __name__ == "__main__":
    unittest.main()
