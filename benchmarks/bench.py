"""tempguard's benchmarks: each scenario against its baselines, measured in the same run.

Every figure is a ratio to a baseline measured in the same process run,
alternating the two on each repetition, and the median of the repetitions is
reported, because machines are noisy. Run with ``make bench`` (full sizes) or
``make bench BENCH_SIZE=quick`` (what CI runs); ``BENCH_JSON=path`` writes JSON.
"""

import argparse
import compileall
import importlib.util
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import tracemalloc

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, PROJECT)

import tempguard  # noqa: E402
from tempguard import cleanup, inuse, origins, scan  # noqa: E402

SIZES = {
    "quick": {"repeat": 3, "files": [1000], "tree": (3, 4), "empty_tests": 1000,
              "foreign": 1000, "dir_tests": 200, "scan": 2000, "memory": 10000,
              "origin_files": 10000, "leaks": 20000, "tiny_pytest": 2000, "spawning": 300},
    "full": {"repeat": 3, "files": [5000, 100000], "tree": (8, 4), "empty_tests": 20000,
             "foreign": 10000, "dir_tests": 2000, "scan": 100000, "memory": 100000,
             "origin_files": 100000, "leaks": 20000, "tiny_pytest": 20000, "spawning": 2000},
}
_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL
_DATA = b"tempguard benchmark payload\n" * 4


class Row(object):
    """One comparison: our time against a baseline's, and the bar it must meet (if any)."""

    def __init__(self, scenario, baseline, ours, theirs, bar=None, higher_is_better=True,
                 unit="s"):
        self.scenario, self.baseline = scenario, baseline
        self.ours, self.theirs, self.unit = ours, theirs, unit
        # For rates, ratio = their time / our time (>1 is faster); for costs, ours / theirs.
        self.ratio = (theirs / ours if higher_is_better else ours / theirs) \
            if ours and theirs else float("nan")
        self.bar = bar
        self.higher_is_better = higher_is_better

    @property
    def met(self):
        if self.bar is None:
            return None
        return self.ratio >= self.bar if self.higher_is_better else self.ratio <= self.bar

    def as_json(self):
        return {"scenario": self.scenario, "baseline": self.baseline, "ours": self.ours,
                "baseline_value": self.theirs, "unit": self.unit, "ratio": self.ratio,
                "bar": self.bar, "bar_kind": ">=" if self.higher_is_better else "<=",
                "met": self.met}


def _timed(function, *args):
    started = time.perf_counter()
    function(*args)
    return time.perf_counter() - started


def _settle():
    """Let the filesystem finish past deletions (discard/TRIM) before the next timing."""
    if hasattr(os, "sync"):
        os.sync()


def compare(repeat, work, contenders):
    """Median seconds of each contender; contender = (name, setup(dir) -> state, run(state)).

    The order rotates on each repetition, so drift and leftovers of the
    previous contender weigh on all of them alike.
    """
    times = {name: [] for name, _, _ in contenders}
    for rep in range(repeat):
        for name, setup, run in contenders[rep % len(contenders):] + contenders[:rep % len(contenders)]:
            directory = tempfile.mkdtemp(dir=work)
            state = setup(directory)
            _settle()
            times[name].append(_timed(run, state))
            sys.stderr.write("  %s: %.3fs\n" % (name, times[name][-1]))
            cleanup.remove_paths([directory])
            _settle()
    return {name: statistics.median(values) for name, values in times.items()}


# -- files ---------------------------------------------------------------------

def _bare_create(directory, count):
    for index in range(count):
        fd = os.open(os.path.join(directory, "f%d" % index), _FLAGS, 0o600)
        os.write(fd, _DATA)
        os.close(fd)


def _mkstemp_create(directory, count):
    for _ in range(count):
        fd, _path = tempfile.mkstemp(dir=directory)
        os.write(fd, _DATA)
        os.close(fd)


class _InTempdir(object):
    """Make tempfile.gettempdir() a benchmark directory for the duration."""

    def __init__(self, directory):
        self.directory = directory

    def __enter__(self):
        self.saved, tempfile.tempdir = tempfile.tempdir, self.directory

    def __exit__(self, *exc_info):
        tempfile.tempdir = self.saved


def _tracked_create(directory, count):
    context = tempguard.TrackingContext("bench")
    with _InTempdir(directory):
        for _ in range(count):
            context.file(_DATA)
    return context


def bench_files(size, work):
    rows = []
    for count in size["files"]:
        label = "create %s files with content" % format(count, ",")
        times = compare(size["repeat"], work, [
            ("tempguard", lambda d: (d, count), lambda s: _tracked_create(*s)),
            ("bare", lambda d: (d, count), lambda s: _bare_create(*s)),
            ("mkstemp", lambda d: (d, count), lambda s: _mkstemp_create(*s)),
        ])
        rows.append(Row(label, "bare os.open+write+close", times["tempguard"], times["bare"], 0.85))
        rows.append(Row(label, "tempfile.mkstemp", times["tempguard"], times["mkstemp"]))
        label = "clean up %s files" % format(count, ",")

        def unlink_all(paths):
            for path in paths:
                os.unlink(path)
        times = compare(size["repeat"], work, [
            ("tempguard", lambda d: _tracked_create(d, count), lambda ctx: ctx.cleanup()),
            ("rmtree", lambda d: (_bare_create(d, count), d)[1], shutil.rmtree),
            ("unlink", lambda d: (_bare_create(d, count),
                                  [os.path.join(d, "f%d" % i) for i in range(count)])[1],
             unlink_all),
        ])
        rows.append(Row(label, "shutil.rmtree", times["tempguard"], times["rmtree"], 0.9))
        rows.append(Row(label, "bare os.unlink loop", times["tempguard"], times["unlink"]))
    return rows


# -- nested tree -----------------------------------------------------------------

def _spec(depth, width):
    spec = {"f": _DATA}
    if depth:
        for index in range(width):
            spec["d%d" % index] = _spec(depth - 1, width)
    return spec


def _manual_tree(root, depth, width):
    pending = [(root, depth)]
    while pending:
        path, level = pending.pop()
        os.makedirs(path, exist_ok=True)
        with open(os.path.join(path, "f"), "wb") as handle:
            handle.write(_DATA)
        if level:
            pending.extend((os.path.join(path, "d%d" % i), level - 1) for i in range(width))


def bench_tree(size, work):
    depth, width = size["tree"]
    spec = _spec(depth, width)
    label = "nested tree depth %d width %d" % (depth, width)

    def tracked_tree(directory):
        context = tempguard.TrackingContext("bench")
        with _InTempdir(directory):
            context.tree(spec)
        return context
    times = compare(size["repeat"], work, [
        ("tempguard", lambda d: d, tracked_tree),
        ("manual", lambda d: os.path.join(d, "t"), lambda p: _manual_tree(p, depth, width)),
    ])
    rows = [Row(label + ": build", "os.makedirs + open", times["tempguard"], times["manual"],
                0.85)]
    times = compare(size["repeat"], work, [
        ("tempguard", tracked_tree, lambda ctx: ctx.cleanup()),
        ("rmtree", lambda d: (_manual_tree(os.path.join(d, "t"), depth, width),
                              os.path.join(d, "t"))[1], shutil.rmtree),
    ])
    rows.append(Row(label + ": clean", "shutil.rmtree", times["tempguard"], times["rmtree"], 0.85))
    return rows


# -- whole test runs ---------------------------------------------------------------

def _write_suite(directory, name, count, body, header="", base="unittest.TestCase"):
    per_class = 100
    lines = ["import os, tempfile, unittest", header]
    for start in range(0, count, per_class):
        lines.append("class C%d(%s):" % (start, base))
        for index in range(start, min(count, start + per_class)):
            lines.append("    def test_%d(self):\n%s" % (index, textwrap.indent(body, " " * 8)))
    with open(os.path.join(directory, name), "w") as handle:
        handle.write("\n".join(lines) + "\n")


def _run_seconds(command, cwd, tmpdir):
    # pytest loads only what a command names: another installed plugin (hypothesis's
    # import alone is 0.6 s) would be measured on both sides of a ratio.
    env = dict(os.environ, TMPDIR=tmpdir, PYTHONPATH=PROJECT, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, universal_newlines=True)
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        raise RuntimeError("%s failed:\n%s" % (" ".join(command), completed.stderr[-2000:]))
    return elapsed


def _median_runs(repeat, runs):
    """runs: {name: (command, cwd, tmpdir)}; order rotated each repetition, median seconds."""
    times = {name: [] for name in runs}
    names = list(runs)
    for rep in range(repeat):
        for name in names[rep % len(names):] + names[:rep % len(names)]:
            command, cwd, tmpdir = runs[name]
            times[name].append(_run_seconds(command, cwd, tmpdir))
            sys.stderr.write("  %s: %.3fs\n" % (name, times[name][-1]))
    return {name: statistics.median(values) for name, values in times.items()}


def bench_empty_tests(size, work):
    count = size["empty_tests"]
    suite = tempfile.mkdtemp(dir=work)
    _write_suite(suite, "bench_empty.py", count, "pass")
    empty_tmp = tempfile.mkdtemp(dir=work)
    crowded_tmp = tempfile.mkdtemp(dir=work)
    for index in range(size["foreign"]):
        os.close(os.open(os.path.join(crowded_tmp, "foreign-%d" % index), _FLAGS, 0o600))
    discover = ["discover", "-p", "bench_*.py"]
    times = _median_runs(size["repeat"], {
        "unittest": ([sys.executable, "-m", "unittest"] + discover, suite, empty_tmp),
        "tempguard": ([sys.executable, "-m", "tempguard.runner"] + discover, suite, empty_tmp),
        "crowded": ([sys.executable, "-m", "tempguard.runner"] + discover, suite, crowded_tmp),
    })
    label = "%s empty tests" % format(count, ",")
    return [
        Row(label, "python -m unittest", times["tempguard"], times["unittest"], 1.25,
            higher_is_better=False),
        Row(label + ", %s foreign entries in the temp dir" % format(size["foreign"], ","),
            "same run, empty temp dir", times["crowded"], times["tempguard"], 1.10,
            higher_is_better=False),
    ]


def bench_spawning(size, work):
    """Tests that each start a short child process, as a suite that drives git or a CLI
    does (poetry-core: 2,919 of them): a fork copied the fd table up to tempguard's
    highest held descriptor, which sat just under the fd limit."""
    count = size["spawning"]
    suite = tempfile.mkdtemp(dir=work)
    program = shutil.which("true") or sys.executable
    _write_suite(suite, "bench_spawning.py", count, "subprocess.run(ARGV, check=True)",
                 header="import subprocess\nARGV = [%r]" % program)
    tmp = tempfile.mkdtemp(dir=work)
    discover = ["discover", "-p", "bench_*.py"]
    times = _median_runs(size["repeat"], {
        "unittest": ([sys.executable, "-m", "unittest"] + discover, suite, tmp),
        "tempguard": ([sys.executable, "-m", "tempguard.runner"] + discover, suite, tmp),
    })
    return [Row("%s tests that each start a child" % format(count, ","), "python -m unittest",
                times["tempguard"], times["unittest"], 1.10, higher_is_better=False)]


def bench_dir_tests(size, work):
    count = size["dir_tests"]
    suite = tempfile.mkdtemp(dir=work)
    tmp = tempfile.mkdtemp(dir=work)
    _write_suite(suite, "bench_mixin.py", count,
                 "path = self.temp_dir()\n(path / 'f').write_text('x')",
                 header="import tempguard", base="tempguard.TempGuardMixin, unittest.TestCase")
    _write_suite(suite, "bench_hand.py", count,
                 "tmp = tempfile.TemporaryDirectory()\nself.addCleanup(tmp.cleanup)\n"
                 "with open(os.path.join(tmp.name, 'f'), 'w') as handle:\n    handle.write('x')")
    runs = {
        "mixin": ([sys.executable, "-m", "unittest", "bench_mixin"], suite, tmp),
        "hand": ([sys.executable, "-m", "unittest", "bench_hand"], suite, tmp),
    }
    if importlib.util.find_spec("pytest") is not None:
        lines = ["def test_%d(tmp_path):\n    (tmp_path / 'f').write_text('x')" % index
                 for index in range(count)]
        with open(os.path.join(suite, "bench_pytest.py"), "w") as handle:
            handle.write("\n".join(lines) + "\n")
        runs["pytest"] = ([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "bench_pytest.py"], suite, tmp)
    if importlib.util.find_spec("testfixtures") is not None:
        _write_suite(suite, "bench_testfixtures.py", count,
                     "tmp = TempDirectory()\nself.addCleanup(tmp.cleanup)\ntmp.write('f', b'x')",
                     header="from testfixtures import TempDirectory")
        runs["testfixtures"] = ([sys.executable, "-m", "unittest", "bench_testfixtures"],
                                suite, tmp)
    times = _median_runs(size["repeat"], runs)
    label = "%s tests that each make a temp dir with one file" % format(count, ",")
    rows = [Row(label, "TemporaryDirectory + addCleanup", times["mixin"], times["hand"], 1.0,
                higher_is_better=False)]
    for name, title in (("pytest", "pytest tmp_path"), ("testfixtures", "testfixtures TempDirectory")):
        if name in times:
            rows.append(Row(label, title, times["mixin"], times[name], higher_is_better=False))
        else:
            rows.append(Row(label, title + " (not installed)", times["mixin"], None,
                            higher_is_better=False))
    return rows


def bench_origins(size, work):
    """Origins on against off: empty tests, and tests that make (and remove) many files."""
    suite = tempfile.mkdtemp(dir=work)
    tmp = tempfile.mkdtemp(dir=work)
    per_test = 100
    files = size["origin_files"]
    _write_suite(suite, "bench_empty.py", size["empty_tests"], "pass")
    _write_suite(suite, "bench_files.py", files // per_test,
                 "for _ in range(%d):\n    fd, path = tempfile.mkstemp()\n    os.close(fd)\n"
                 "    os.unlink(path)" % per_test)
    rows = []
    for module, label in (("bench_empty", "%s empty tests" % format(size["empty_tests"], ",")),
                          ("bench_files", "%s tests that make and remove %s files" % (
                              format(files // per_test, ","), format(files, ",")))):
        command = [sys.executable, "-m", "tempguard.runner", module, "--origins"]
        if not origins.AVAILABLE:
            rows.append(Row(label, "origins off (origins unavailable before 3.8)", None, None))
            continue
        times = _median_runs(size["repeat"], {"on": (command + ["on"], suite, tmp),
                                              "off": (command + ["off"], suite, tmp)})
        rows.append(Row(label + ", origins on", "same, origins off", times["on"], times["off"],
                        1.05, higher_is_better=False))
    return rows


def _pytest_file_tests(count):
    return "\n".join(["import os, tempfile"] + [
        "def test_%d():\n    fd, path = tempfile.mkstemp()\n    os.close(fd)\n"
        "    os.unlink(path)" % index for index in range(count)]) + "\n"


def _pytest_tiny_tests(count):
    return ("import pytest\n\n\n@pytest.fixture\ndef base():\n    return 10\n\n\n"
            "@pytest.mark.parametrize('number', range(%d))\n"
            "def test_tiny(base, number):\n    assert number + base >= base\n" % count)


def bench_pytest(size, work):
    """pytest --tempguard against plain pytest, on tests that each make one temp file."""
    count = size["dir_tests"]
    return [_against_pytest(size, work, "%s pytest tests that each make and remove a temp file"
                            % format(count, ","), _pytest_file_tests(count), 1.05)]


def bench_pytest_tiny(size, work):
    """pytest --tempguard against plain pytest on many tiny parametrized tests, as in
    packaging's suite (64,207 of them): the plugin's cost per test and per fixture."""
    count = size["tiny_pytest"]
    return [_against_pytest(size, work, "%s tiny parametrized pytest tests" % format(count, ","),
                            _pytest_tiny_tests(count), 1.10)]


def _against_pytest(size, work, label, source, bar):
    """The row of pytest --tempguard against plain pytest on a test file of *source*."""
    if importlib.util.find_spec("pytest") is None:
        return Row(label, "pytest (not installed)", None, None)
    suite = tempfile.mkdtemp(dir=work)
    tmp = tempfile.mkdtemp(dir=work)
    with open(os.path.join(suite, "bench_pytest.py"), "w") as handle:
        handle.write(source)
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "bench_pytest.py"]
    times = _median_runs(size["repeat"], {
        "pytest": (command, suite, tmp),
        "tempguard": (command + ["-p", "tempguard.pytest_plugin", "--tempguard"], suite, tmp)})
    return Row(label, "pytest", times["tempguard"], times["pytest"], bar, higher_is_better=False)


# -- monitor scan and memory -------------------------------------------------------------

def bench_scan(size, work):
    count = size["scan"]

    def bare(directory):
        with os.scandir(directory) as entries:
            for entry in entries:
                entry.stat(follow_symlinks=False)

    def populate(directory):
        for index in range(count):
            os.close(os.open(os.path.join(directory, "e%d" % index), _FLAGS, 0o600))
        return directory
    times = compare(size["repeat"], work, [
        ("tempguard", populate, scan.scan),
        ("bare", populate, bare),
    ])
    return [Row("monitor scan of a %s-entry directory" % format(count, ","),
                "bare os.scandir + lstat", times["tempguard"], times["bare"], 0.8)]


def bench_in_use(size, work):
    """The monitor's in-use checks on every entry of a scan, against the scan alone."""
    count = size["scan"]

    def populate(directory):
        for index in range(count):
            os.close(os.open(os.path.join(directory, "e%d" % index), _FLAGS, 0o600))
        return directory

    def clean_dry_run(directory, check=True):
        """What --clean does with every entry a candidate, without removing any."""
        result = scan.scan(directory)
        in_use = inuse.InUse() if check else None
        below = in_use.reasons_below(directory) if check else None
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            for entry in result.entries:
                name = os.path.basename(entry.path)
                if check:
                    in_use.reason(fd, name, below, entry.kind, entry.identity[0],
                                  entry.identity[1])
        finally:
            os.close(fd)
    times = compare(size["repeat"], work, [
        ("tempguard", populate, clean_dry_run),
        ("unchecked", populate, lambda directory: clean_dry_run(directory, check=False)),
    ])
    return [Row("clean dry run of a %s-entry directory, in-use checks" % format(count, ","),
                "the same without the checks", times["tempguard"], times["unchecked"], 1.10,
                higher_is_better=False)]


def bench_memory(size, work):
    count = size["memory"]
    directory = tempfile.mkdtemp(dir=work)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        context = _tracked_create(directory, count)
        ours = tracemalloc.get_traced_memory()[0] - before
        paths = [str(path) for path in context.tracked_paths()]
        del context
        before = tracemalloc.get_traced_memory()[0]
        plain = [os.path.join(directory, os.path.basename(path)) for path in paths]
        theirs = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    del plain
    cleanup.remove_paths([directory])
    extra = (ours - theirs) / float(count)
    row = Row("memory for %s tracked paths" % format(count, ","), "the paths in a plain list",
              extra, 1.0, 150, higher_is_better=False, unit="B/path")
    row.ratio = extra  # the bar is in bytes per path, not a ratio
    return [row]


_PEAK = """
import resource, subprocess, sys
completed = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
sys.stderr.buffer.write(completed.stderr[-2000:])
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)  # KiB, the largest process
sys.exit(completed.returncode)
"""


def bench_many_leaks(size, work):
    """One test forgets 20,000 files made on one line: judging, reporting and removing
    them must stay linear and small, in time and in memory."""
    count = size["leaks"]
    suite = tempfile.mkdtemp(dir=work)
    _write_suite(suite, "bench_leaks.py", 1,
                 "for _ in range(%d):\n    os.close(tempfile.mkstemp()[0])" % count)
    commands = {"unittest": [sys.executable, "-m", "unittest", "bench_leaks"],
                "tempguard": [sys.executable, "-m", "tempguard.runner", "bench_leaks"]}
    times, peaks = {name: [] for name in commands}, {name: [] for name in commands}
    for rep in range(size["repeat"]):
        for name in sorted(commands, reverse=rep % 2 == 1):
            tmpdir = tempfile.mkdtemp(dir=work)  # unittest leaves them all: a fresh one
            env = dict(os.environ, TMPDIR=tmpdir, PYTHONPATH=PROJECT)
            started = time.perf_counter()
            completed = subprocess.run([sys.executable, "-c", _PEAK] + commands[name],
                                       cwd=suite, env=env, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, universal_newlines=True)
            times[name].append(time.perf_counter() - started)
            if completed.returncode != 0:
                raise RuntimeError("%s failed:\n%s" % (name, completed.stderr))
            peaks[name].append(int(completed.stdout) * 1024)
            sys.stderr.write("  %s: %.3fs, %.1f MiB\n" % (name, times[name][-1],
                                                          peaks[name][-1] / 2.0 ** 20))
            cleanup.remove_paths([tmpdir])
            _settle()
    label = "%s leaks from one test" % format(count, ",")
    extra = (statistics.median(peaks["tempguard"]) - statistics.median(peaks["unittest"])) \
        / float(count)
    memory = Row(label + ", peak memory", "python -m unittest (leaves them all)", extra, 1.0,
                 1000, higher_is_better=False, unit="B/leak")
    memory.ratio = extra  # the bar is in bytes per leak, not a ratio
    return [Row(label, "python -m unittest (leaves them all)",
                statistics.median(times["tempguard"]), statistics.median(times["unittest"]),
                2.0, higher_is_better=False), memory]


# -- instruction counts -------------------------------------------------------------------

# Tests a suite has in instruction mode: the count a test is taken between it and twice it.
_COUNTED_TESTS = {"quick": 200, "full": 1000}


def _instructions(command, cwd, tmpdir, out_dir, skip=()):
    """User-space instructions of *command* and every process it starts (callgrind), but
    the programs in *skip*, which run natively. A forked child's count includes its
    parent's until the fork; that cancels out of the difference bench_instructions takes."""
    counts = tempfile.mkdtemp(dir=out_dir)
    _run_seconds(["valgrind", "--tool=callgrind", "--trace-children=yes",
                  "--callgrind-out-file=%s" % os.path.join(counts, "callgrind.%p")]
                 + (["--trace-children-skip=" + ",".join(skip)] if skip else []) + command,
                 cwd, tmpdir)
    total = 0
    for name in os.listdir(counts):
        with open(os.path.join(counts, name), errors="replace") as handle:
            for line in handle:
                if line.startswith(("summary:", "totals:")):
                    total += int(line.split()[1])
                    break
    return total


def _per_test(size, work, write, commands, skip=()):
    """{name: instructions a test}: each of *commands* ({name: argv}) run under callgrind
    on a suite of N and of 2N tests (*write(directory, count)* writes one)."""
    count = _COUNTED_TESTS[size["name"]]
    suites = {}
    for tests in (count, 2 * count):
        suites[tests] = tempfile.mkdtemp(dir=work)
        write(suites[tests], tests)
    tmp = tempfile.mkdtemp(dir=work)
    per_test = {}
    for name, command in commands.items():
        small, large = (_instructions(command, suites[tests], tmp, work, skip)
                        for tests in (count, 2 * count))
        per_test[name] = (large - small) / count
        sys.stderr.write("  %s: %.0f instructions a test\n" % (name, per_test[name]))
    return per_test


def _instruction_row(label, baseline, per_test, bar):
    return Row(label + " (instructions a test)", baseline, per_test["tempguard"],
               per_test["baseline"], bar, higher_is_better=False, unit="instr")


def bench_instructions(size, work):
    """The per-test rows counted in instructions (callgrind, every process): unlike time,
    a count holds on a busy machine. Run by --instructions only: callgrind is slow."""
    if shutil.which("valgrind") is None:
        return [Row("per-test rows in instructions", "valgrind (not installed)", None, None)]
    discover = ["discover", "-p", "bench_*.py"]
    unittest_commands = {"baseline": [sys.executable, "-m", "unittest"] + discover,
                         "tempguard": [sys.executable, "-m", "tempguard.runner"] + discover}
    rows = [_instruction_row("empty tests", "python -m unittest", _per_test(
        size, work, lambda directory, count: _write_suite(directory, "bench_empty.py", count,
                                                          "pass"),
        unittest_commands), 1.25)]
    program = shutil.which("true") or sys.executable
    rows.append(_instruction_row("tests that each start a child", "python -m unittest", _per_test(
        size, work, lambda directory, count: _write_suite(
            directory, "bench_spawning.py", count, "subprocess.run(ARGV, check=True)",
            header="import subprocess\nARGV = [%r]" % program),
        unittest_commands, skip=[program]), None))  # its bar is the timed row's: the kernel's
    # fork and exec, most of what a start costs, are not counted here
    if importlib.util.find_spec("pytest") is None:
        rows.append(Row("pytest rows in instructions", "pytest (not installed)", None, None))
        return rows
    pytest = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "bench_pytest.py"]
    pytest_commands = {"baseline": pytest,
                       "tempguard": pytest + ["-p", "tempguard.pytest_plugin", "--tempguard"]}
    for label, source, bar in (
            ("pytest tests that each make and remove a temp file", _pytest_file_tests, None),
            ("tiny parametrized pytest tests", _pytest_tiny_tests, 1.05)):
        rows.append(_instruction_row(label, "pytest", _per_test(
            size, work, lambda directory, count, source=source: _write_text(
                os.path.join(directory, "bench_pytest.py"), source(count)),
            pytest_commands), bar))
    return rows


def _write_text(path, text):
    with open(path, "w") as handle:
        handle.write(text)


SCENARIOS = [bench_files, bench_tree, bench_empty_tests, bench_spawning, bench_dir_tests,
             bench_origins,
             bench_pytest, bench_pytest_tiny, bench_scan, bench_in_use, bench_memory, bench_many_leaks]


def _format_value(value, unit):
    if value is None:
        return "-"
    if unit == "instr":
        return format(int(round(value)), ",")
    return "%.1f B" % value if unit.startswith("B/") else "%.3fs" % value


def print_table(rows, stream):
    headers = ("scenario", "baseline", "tempguard", "baseline", "ratio", "bar", "result")
    table = []
    for row in rows:
        if row.unit.startswith("B/"):
            ratio, bar = "%+.1f %s" % (row.ratio, row.unit), "<= %d %s" % (row.bar, row.unit)
            ours, theirs = "%.1f %s extra" % (row.ours, row.unit), "-"
        else:
            ratio = "%.2fx" % row.ratio if row.theirs else "-"
            bar = "-" if row.bar is None else ("%s %.2fx" % (">=" if row.higher_is_better else "<=",
                                                             row.bar))
            ours, theirs = _format_value(row.ours, row.unit), _format_value(row.theirs, row.unit)
        result = {None: "", True: "ok", False: "MISSED"}[row.met]
        table.append((row.scenario, row.baseline, ours, theirs, ratio, bar, result))
    widths = [max(len(str(line[i])) for line in table + [headers]) for i in range(len(headers))]
    for line in [headers] + table:
        stream.write("  ".join(str(cell).ljust(width) for cell, width in zip(line, widths)).rstrip()
                     + "\n")
    stream.write("ratios: for rates, baseline time / tempguard time (>= bar is good); "
                 "for run times, tempguard / baseline (<= bar is good)\n")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="benchmarks/bench.py", description=__doc__.split("\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--only", nargs="+", metavar="SCENARIO", default=[],
                        choices=[scenario.__name__[len("bench_"):] for scenario in SCENARIOS],
                        help="run only these scenarios (default: all)")
    parser.add_argument("--instructions", action="store_true",
                        help="count the per-test rows in instructions with callgrind, "
                             "instead of timing every scenario")
    args = parser.parse_args(argv)
    if args.instructions and args.only:
        parser.error("--instructions counts the per-test rows; --only times scenarios")
    size = dict(SIZES[args.size], name=args.size)
    scenarios = [bench_instructions] if args.instructions else SCENARIOS
    # Measure tempguard as installed, with bytecode, like the stdlib it is compared to.
    compileall.compile_dir(os.path.join(PROJECT, "tempguard"), quiet=1)
    work = tempfile.mkdtemp(prefix="tempguard-bench-")
    rows = []
    try:
        for scenario in scenarios:
            if args.only and scenario.__name__[len("bench_"):] not in args.only:
                continue
            rows.extend(scenario(size, work))
            sys.stderr.write("done: %s\n" % scenario.__name__)
    finally:
        cleanup.remove_paths([work])
    sys.stdout.write("tempguard %s benchmarks (%s size), Python %s on %s\n" % (
        tempguard.__version__, args.size, platform.python_version(), platform.platform()))
    print_table(rows, sys.stdout)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"version": 1, "size": args.size, "python": platform.python_version(),
                       "rows": [row.as_json() for row in rows]}, handle, indent=2)
    missed = [row for row in rows if row.met is False]
    if missed:
        sys.stdout.write("%d bar(s) missed\n" % len(missed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
