"""tempguard for pytest: every test guarded as ``python -m tempguard.runner`` guards unittest's.

pytest loads this module (the ``pytest11`` entry point of an installed
tempguard, or ``-p tempguard.pytest_plugin``); nothing else imports it. It
stays inactive unless asked: ``pytest --tempguard``, or ``tempguard = true``
in the ini file. Inactive, it adds its options and imports nothing else, on
every platform, so an installed tempguard never changes a pytest run that
does not ask for it. Active, each pytest process (each xdist worker) runs one
session with its sandbox (``pytest_guard``), and the xdist controller merges
what its workers report (``pytest_xdist``).
"""

import tempfile

import pytest

from .options import OPTIONS, SETTING_NAMES
from .real import os


def pytest_addoption(parser):
    group = parser.getgroup("tempguard", "temporary files tests leave behind (tempguard)")
    group.addoption("--tempguard", action="store_true", default=None,
                    help="guard every test: sandbox tempfile, report and remove leaks")
    for name, keywords, help_text in OPTIONS:  # checked by Settings, as the ini keys
        group.addoption("--tempguard-" + name.replace("_", "-"), help=help_text, **keywords)
    parser.addini("tempguard", "guard every test (as --tempguard)", type="bool", default=False)
    for name in SETTING_NAMES:
        if name == "update_baseline":
            continue  # a step a person takes, never a project's standing setting
        parser.addini("tempguard_" + name, "tempguard's %s setting (as --tempguard-%s)"
                      % (name, name.replace("_", "-")),
                      type="args" if name == "watch" else None)


def pytest_configure(config):
    # Inactive, the plugin leaves no trace, its marker included: pytest behaves as
    # if tempguard were not installed.
    if not (config.getoption("tempguard") or config.getini("tempguard")):
        return
    config.addinivalue_line(
        "markers", "tempguard(leaks=None, keep=None): this test's leak and keep policies")
    from .settings import Settings
    try:
        _check_basetemp(config.getoption("basetemp", None))
        from .baseline import resolve
        settings = resolve(_settings(config, Settings))
        if _is_xdist_controller(config):
            from .pytest_xdist import Controller as plugin_class
        else:
            from .pytest_guard import Guard as plugin_class
        plugin = plugin_class(config, settings)
    except (ValueError, OSError) as error:
        raise pytest.UsageError("tempguard: %s" % error)
    config.pluginmanager.register(plugin, "tempguard-session")


def _check_basetemp(basetemp):
    """Refuse a --basetemp that is the temp dir or holds it: pytest empties its basetemp
    as it starts, and would take tempguard's run roots (this run's too) with it."""
    if not basetemp:
        return
    given = os.path.realpath(os.fspath(basetemp))
    temp_dir = os.path.realpath(tempfile.gettempdir())
    if temp_dir == given or temp_dir.startswith(given.rstrip(os.sep) + os.sep):
        raise ValueError("--basetemp %s holds the temp dir %s, where tempguard keeps its run; "
                         "pytest empties its basetemp as it starts: give a directory of its "
                         "own (or inside the temp dir)" % (basetemp, temp_dir))


def _settings(config, settings_class):
    """Settings from the command line, then the ini file, then TEMPGUARD_* variables."""
    values = {}
    for name in SETTING_NAMES:
        value = config.getoption("tempguard_" + name)
        if value is None and name != "update_baseline":
            value = config.getini("tempguard_" + name) or None
        values[name] = value
    return settings_class(**values)


def _is_xdist_controller(config):
    return (not hasattr(config, "workerinput")
            and config.getoption("dist", "no") != "no"
            and bool(config.getoption("numprocesses", None)))
