"""The end of a guarded pytest run: pytest's counts as its summary line counts them,
the section under pytest's rule, and what CI reads (see closing)."""

import copy

import pytest

from . import github as _github
from . import closing as _closing
from . import output as _output

__all__ = ["Closing", "Counts", "write_summary"]


class Closing(object):
    """The end of a pytest run (see closing): what CI reads is written at the session's
    finish, where the exit status is set; the section and its lines come in pytest's
    terminal summary, which follows."""

    def __init__(self, session, records, fixture_records, settings, write_report,
                 late_failures=()):
        """*late_failures*: [(record, leaks)] judged at the session's end in fail mode,
        when their own tests were over: they fail the run, not the last test."""
        self.records, self.fixture_records, self.settings = records, fixture_records, settings
        self.fixed = _closing.fixed_entries(records, fixture_records, settings)
        self.lines = _closing.conclude(records, fixture_records, settings, write_report,
                                       self.fixed)
        self.lines += ["tempguard: FAILED: %s left %s, judged at the session's end "
                       "(--tempguard-leaks fail)" % (_output.display(record.id), _output.plural(
                           len(leaks), "temporary entry", "temporary entries"))
                       for record, leaks in late_failures]
        session.exitstatus = _closing.leaked_status(session.exitstatus, records,
                                                    fixture_records, settings)
        if late_failures and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def write(self, terminalreporter):
        write_summary(terminalreporter, self.records, self.fixture_records, self.settings,
                       self.fixed)
        for line in self.lines:
            terminalreporter.write_line(line)
        if self.settings.annotations == "github":
            for line in _github.github_commands(self.records, self.fixture_records,
                                                     self.settings):
                terminalreporter.write_line(line)


# pytest's summary categories, as the report's outcome names.
_OUTCOME_OF_CATEGORY = {"passed": "passed", "failed": "failed", "error": "error",
                        "skipped": "skipped", "xfailed": "expected_failure",
                        "xpassed": "unexpected_success"}


class Counts(object):
    """The outcomes pytest's summary line counts, tallied as its terminal tallies them:
    each report in the category pytest_report_teststatus gives it (a failed subTest
    counts, a passed or quietly skipped one does not), and collection skips and errors."""

    def __init__(self, config):
        self._config = config
        self.totals = {outcome: 0 for outcome in _OUTCOME_OF_CATEGORY.values()}
        self.totals["tests"] = 0

    def add(self, report):
        if type(report) is pytest.TestReport and report.outcome in _PLAIN_OUTCOMES:
            category = _plain_category(report)  # pytest's own rules, without a hook call
        else:
            category = self._config.hook.pytest_report_teststatus(report=report,
                                                                  config=self._config)[0]
        self._count(_OUTCOME_OF_CATEGORY.get(category))

    def add_collected(self, report):
        self._count("error" if report.failed else "skipped" if report.skipped else None)

    def _count(self, outcome):
        if outcome is not None:
            self.totals[outcome] += 1
            self.totals["tests"] += 1


# A plain report with one of these outcomes gets its category by pytest's own rules
# (runner, skipping and terminal plugins); any other (a plugin's "rerun") is asked for.
_PLAIN_OUTCOMES = ("passed", "failed", "skipped")


def _plain_category(report):
    """The category pytest_report_teststatus gives a plain TestReport, by pytest's rules."""
    if hasattr(report, "wasxfail") and not report.failed:
        return "xfailed" if report.skipped else "xpassed"
    if report.when == "call":
        return report.outcome
    if report.failed:
        return "error"
    return "skipped" if report.skipped else ""


def write_summary(terminalreporter, records, fixture_records, settings, fixed=()):
    """tempguard's section as pytest's own: under its rule, at its verbosity (-qq: the
    totals line alone; -vv: every leaked path)."""
    verbosity = terminalreporter.config.getoption("verbose")
    terminal = _Terminal(terminalreporter)
    if verbosity <= -2:
        _output.write_totals(terminal, records, fixture_records, None, prefix="tempguard: ")
        return
    if verbosity >= 2 and not settings.all_leaks:
        settings = copy.copy(settings)
        settings.all_leaks = True
    terminalreporter.write_sep("=", "tempguard")
    _output.write_section(terminal, records, fixture_records, None, settings,
                          heading=lambda title: terminalreporter.write_sep("-", title),
                          fixed=fixed)


class _Terminal(object):
    """pytest's terminal as a stream for tempguard's section."""

    def __init__(self, terminalreporter):
        self.write = terminalreporter.write

    def flush(self):
        pass  # pytest's terminal writer flushes as it needs
