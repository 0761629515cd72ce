"""The settings a run takes, as data: each an option of the runner and of pytest, and a
TEMPGUARD_* variable. Imports nothing, so that pytest's plugin, installed but not asked
for, adds its options at no cost (settings checks the values)."""

__all__ = ["ANNOTATIONS_SETTINGS", "KEEP_POLICIES", "LEAK_POLICIES", "OPTIONS",
           "ORIGINS_SETTINGS", "OUTSIDE_SETTINGS", "SETTING_NAMES"]

LEAK_POLICIES = ("ignore", "warn", "fail")
KEEP_POLICIES = ("none", "failed", "all")
ORIGINS_SETTINGS = ("on", "off")
# What an entry outside the sandbox needs to be a leak: evidence that this run made it,
# or (strict, for a private temp dir) only to have appeared during the run.
OUTSIDE_SETTINGS = ("evidence", "strict")
# Where leaks are also shown: GitHub Actions' annotations (the default when GITHUB_ACTIONS is
# "true"), or nowhere else.
ANNOTATIONS_SETTINGS = ("github", "none")
# The settings of a run, each an option of the runner (--keep-runs) and of pytest
# (--tempguard-keep-runs), and a TEMPGUARD_* environment variable (TEMPGUARD_KEEP_RUNS):
# (name, the argparse keywords both options take, their help).
OPTIONS = (
    ("leaks", {"choices": LEAK_POLICIES},
     "what a leak does: ignore, warn (default) or fail the test"),
    ("keep", {"choices": KEEP_POLICIES},
     "keep temp files of no test, failed tests (default) or all"),
    ("keep_runs", {"metavar": "N"}, "runs whose kept files are kept (default 3)"),
    ("report", {"metavar": "PATH"}, "write a JSON report to PATH"),
    ("watch", {"action": "append", "metavar": "DIR"}, "also watch DIR for leaks (repeatable)"),
    ("origins", {"choices": ORIGINS_SETTINGS},
     "name the line of code that made each leak: on (default, Python 3.8+) or off"),
    ("outside", {"choices": OUTSIDE_SETTINGS},
     "what an entry outside the sandbox needs to be a leak: evidence that this run made it "
     "(default), or, for a private temp dir, strict: to have appeared during the run"),
    ("all_leaks", {"action": "store_true", "default": None},
     "list every leaked path, not a few of each place that made many"),
    ("baseline", {"metavar": "FILE"}, "known leaks: those FILE lists are reported, never fail"),
    ("update_baseline", {"action": "store_true", "default": None},
     "write this run's leaks into the baseline FILE"),
    ("leaks_exit_code", {"metavar": "N"},
     "exit N (1-255) when every test passed but new leaks were confirmed"),
    ("annotations", {"choices": ANNOTATIONS_SETTINGS},
     "also show leaks as GitHub Actions annotations: github (the default when "
     "GITHUB_ACTIONS=true) or none"),
    ("keep_dir", {"metavar": "DIR"},
     "keep files in DIR, one subdir per test, with a manifest.json (for CI to upload)"),
    ("keep_max_bytes", {"metavar": "N"}, "keep no more than N bytes (suffixes K, M, G: 1024s)"),
)
SETTING_NAMES = tuple(name for name, _keywords, _help in OPTIONS)
