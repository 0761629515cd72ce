"""tempguard stays stdlib-only, works vendored under any package path, and packages cleanly."""

import ast
import os
import re
import shutil
import sys
import sysconfig
import tempfile
import textwrap
import unittest

import tempguard
from tests import support

PACKAGE = support.PACKAGE


def _imported_modules(path):
    with open(path) as handle:
        tree = ast.parse(handle.read(), path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.split(".")[0], 0
        elif isinstance(node, ast.ImportFrom) and node.module is None:
            for alias in node.names:  # from . import name
                yield alias.name, node.level
        elif isinstance(node, ast.ImportFrom):
            yield node.module.split(".")[0], node.level


# The standard library's Windows-only modules: find_spec cannot see them here before 3.10.
_WINDOWS_STDLIB = frozenset(["_winapi", "msvcrt", "nt", "winreg"])


def _is_stdlib(name):
    if name in sys.builtin_module_names or name in _WINDOWS_STDLIB:
        return True
    names = getattr(sys, "stdlib_module_names", None)  # Python 3.10+
    if names is not None:
        return name in names
    import importlib.util
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin in (None, "built-in", "frozen"):
        return spec is not None
    stdlib = os.path.realpath(sysconfig.get_paths()["stdlib"])
    origin = os.path.realpath(spec.origin)
    return origin.startswith(stdlib + os.sep) and "site-packages" not in origin


# Integration modules: loaded only by their tool (or by one another), they may import it.
INTEGRATIONS = {"pytest_plugin.py": "pytest", "pytest_guard.py": "pytest",
                "pytest_report.py": "pytest", "pytest_xdist.py": "pytest", "django.py": "django"}


class StdlibOnlyTest(unittest.TestCase):

    def test_every_import_is_standard_library_or_relative(self):
        checked = 0
        for name in sorted(os.listdir(PACKAGE)):
            if not name.endswith(".py"):
                continue
            for module, level in _imported_modules(os.path.join(PACKAGE, name)):
                checked += 1
                with self.subTest(file=name, module=module):
                    tool = INTEGRATIONS.get(name)
                    if level and module + ".py" in INTEGRATIONS:
                        self.assertEqual(INTEGRATIONS[module + ".py"], tool,
                                         "only its tool may load an integration module")
                    if level or (tool and module.partition(".")[0] in (tool, "_" + tool)):
                        continue
                    self.assertNotEqual(module, "tempguard",
                                        "absolute import of tempguard breaks vendoring")
                    self.assertTrue(_is_stdlib(module), "%s is not in the standard library"
                                    % module)
        self.assertGreater(checked, 30)


class LayersTest(unittest.TestCase):
    """The package docstring's map of the house is true: every module is in a layer, and
    imports only from its own layer and those before it."""

    def test_every_module_imports_only_its_layer_and_those_below(self):
        package = PACKAGE
        docstring = ast.get_docstring(ast.parse(_read(os.path.join(package, "__init__.py"))))
        layers = re.findall(r"(?m)^\* (\w+): ([^*]+?)(?:;|\.)$", docstring.replace("\n  ", " "))
        level = {module: number for number, (_name, modules) in enumerate(layers)
                 for module in re.findall(r"\w+", modules)}
        modules = {name[:-3] for name in os.listdir(package)
                   if name.endswith(".py") and not name.startswith("__")}
        self.assertEqual(set(level), modules)
        upward = []
        for module in sorted(modules):
            for node in ast.walk(ast.parse(_read(os.path.join(package, module + ".py")))):
                if isinstance(node, ast.ImportFrom) and node.level == 1:
                    names = [node.module.split(".")[0]] if node.module else [
                        alias.name for alias in node.names]
                    upward += ["%s imports %s" % (module, name) for name in names
                               if level.get(name, -1) > level[module]]
        self.assertEqual(upward, [])


    def test_settings_reads_no_output_module_origins_no_wire_and_the_supervisor_no_rules(self):
        """Settings loaded the baseline and imported four output modules; origins borrowed
        the hand-off's file; the supervisor had its own copy of the judge's rules."""
        self.assertEqual(_imports("settings") & {"output", "jsonreport", "baseline", "github"},
                         set())
        self.assertEqual(_imports("origins") & {"wire", "handoff"}, set())
        self.assertEqual(_imports("supervisor") & {"leak_of", "is_unattributed", "Leak"}, set())


def _imports(module):
    """The modules and names *module* of the package imports relatively."""
    found = set()
    path = os.path.join(PACKAGE, module + ".py")
    for node in ast.walk(ast.parse(_read(path))):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            found.update([node.module] if node.module else [])
            found.update(alias.name for alias in node.names)
    return found


def _read(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


class GuideTest(unittest.TestCase):

    def test_python_m_tempguard_names_the_three_commands_and_the_version(self):
        completed = support.run_python(["-m", "tempguard"])
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertIn("tempguard %s" % tempguard.__version__, completed.stdout)
        for command in ("tempguard.runner", "tempguard.monitor", "tempguard.report"):
            self.assertIn("python -m " + command, completed.stdout)


class VendoringTest(unittest.TestCase):

    def test_a_copy_under_another_package_path_works_without_install(self):
        tree = tempfile.mkdtemp(prefix="vendored-")
        self.addCleanup(support._remove, tree)
        vendor = os.path.join(tree, "myapp", "vendor")
        os.makedirs(vendor)
        for package in (os.path.join(tree, "myapp"), vendor):
            open(os.path.join(package, "__init__.py"), "w").close()
        shutil.copytree(PACKAGE, os.path.join(vendor, "tempguard"),
                        ignore=shutil.ignore_patterns("__pycache__"))
        with open(os.path.join(tree, "test_vendored.py"), "w") as handle:
            handle.write(textwrap.dedent("""
                import tempfile, unittest
                from myapp.vendor import tempguard

                class Vendored(tempguard.TempGuardMixin, unittest.TestCase):
                    def test_helper(self):
                        self.assertTrue(self.temp_file("x").exists())

                    def test_leak(self):
                        tempfile.mkstemp(suffix=".vendored-leak")
            """))
        scratch = tempfile.mkdtemp(prefix="scratch-")
        self.addCleanup(support._remove, scratch)
        # Only the copy is importable: no PYTHONPATH to the project, isolated from site.
        env = dict(os.environ, TMPDIR=scratch, PYTHONPATH="")
        import subprocess
        completed = subprocess.run(
            [sys.executable, "-s", "-m", "myapp.vendor.tempguard.runner", "-v", "test_vendored"],
            cwd=tree, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            universal_newlines=True, timeout=120)
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertIn("Ran 2 tests", completed.stderr)
        self.assertIn(".vendored-leak", completed.stderr)
        self.assertEqual(os.listdir(scratch), [])


class InstallTest(unittest.TestCase):
    """pip install . into a fresh virtualenv, on the oldest and the newest supported Python."""

    def setUp(self):
        if sys.version_info[:2] not in ((3, 6), (3, 13)):
            self.skipTest("packaging is proven on the oldest and newest Python, 3.6 and 3.13")

    def test_pip_install_into_a_fresh_virtualenv(self):
        import subprocess
        work = tempfile.mkdtemp(prefix="install-")
        self.addCleanup(support._remove, work)
        source = os.path.join(work, "src")
        os.mkdir(source)
        for name in ("setup.py", "setup.cfg", "README.rst"):
            shutil.copy(os.path.join(support.PROJECT, name), source)
        shutil.copytree(PACKAGE, os.path.join(source, "tempguard"),
                        ignore=shutil.ignore_patterns("__pycache__"))
        venv = os.path.join(work, "venv")
        python = os.path.join(venv, "bin", "python")

        def run(*args):
            completed = subprocess.run(args, cwd=work, stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT, universal_newlines=True,
                                       timeout=600, env=dict(os.environ, PYTHONPATH=""))
            self.assertEqual(completed.returncode, 0, completed.stdout)
            return completed.stdout
        run(sys.executable, "-m", "venv", venv)
        pip = [python, "-m", "pip", "--disable-pip-version-check", "--no-input"]
        if subprocess.run([python, "-c", "import setuptools"],
                          stderr=subprocess.DEVNULL).returncode != 0:
            run(*(pip + ["install", "--quiet", "setuptools"]))
        run(*(pip + ["install", "--quiet", "--no-build-isolation", source]))
        shown = run(*(pip + ["show", "tempguard"]))
        self.assertRegex(shown, r"(?m)^Requires: *$")
        self.assertIn("usage: python -m tempguard.runner", run(python, "-m", "tempguard.runner",
                                                               "--help"))
        run(python, "-m", "tempguard.monitor", "--help")


class SourceReleaseTest(unittest.TestCase):
    """The sdist was the package alone: no docs (README links them), no tests or their
    example suites, no Makefile, no licence text, so nothing in it could be checked."""

    def test_the_sdist_carries_what_make_test_needs_and_the_licence(self):
        import importlib.util
        import subprocess
        import tarfile
        if importlib.util.find_spec("setuptools") is None:
            self.skipTest("building an sdist needs setuptools, not installed for %s"
                          % sys.executable)
        if support.PACKAGE != os.path.join(support.PROJECT, "tempguard"):
            self.skipTest("building an sdist needs the source tree; this run tests an "
                          "installed tempguard (make test-installed)")
        work = tempfile.mkdtemp(prefix="sdist-")
        self.addCleanup(support._remove, work)
        source = os.path.join(work, "src")
        shutil.copytree(support.PROJECT, source, ignore=shutil.ignore_patterns(
            "__pycache__", ".git", "*.egg-info", "build", "dist", ".coverage*"))
        completed = subprocess.run([sys.executable, "setup.py", "-q", "sdist", "-d", work],
                                   cwd=source, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, universal_newlines=True)
        self.assertEqual(completed.returncode, 0, completed.stdout)
        (archive,) = [name for name in os.listdir(work) if name.endswith(".tar.gz")]
        with tarfile.open(os.path.join(work, archive)) as tar:
            members = set(name.split("/", 1)[1] for name in tar.getnames() if "/" in name)
        for needed in ("Makefile", "CHANGELOG.rst", ".ci/run", "README.rst",
                       "tempguard/LICENSE", "docs/platforms.rst", "tests/support.py",
                       "tests/examples/leaky/example_leaks.py",
                       "tests/platforms/windows/sitecustomize.py", "benchmarks/bench.py"):
            self.assertIn(needed, members)
        self.assertEqual([name for name in members if "__pycache__" in name], [])


def _unannotated(function):
    """The parameters (and "return") of *function* that have no annotation."""
    import inspect
    function = inspect.unwrap(function)
    names = [name for name, parameter in inspect.signature(function).parameters.items()
             if parameter.annotation is inspect.Parameter.empty]
    if names and names[0] in ("self", "cls"):
        names.pop(0)
    if inspect.signature(function).return_annotation is inspect.Signature.empty:
        names.append("return")
    return names


class TypesTest(unittest.TestCase):
    """The public API had no annotations and no py.typed: editors and mypy users of the
    projects that adopt tempguard got nothing."""

    def test_every_public_name_is_annotated(self):
        import inspect
        missing = {}
        for name in tempguard.__all__:
            value = getattr(tempguard, name)
            if inspect.isfunction(value):
                members = {name: value}
            else:  # a class: its own public methods and properties, and its dunders
                members = {}
                for attribute, member in vars(value).items():
                    if isinstance(member, property):
                        member = member.fget
                    elif isinstance(member, (classmethod, staticmethod)):
                        member = member.__func__
                    if inspect.isfunction(member) and (
                            not attribute.startswith("_") or attribute.endswith("__")):
                        members["%s.%s" % (name, attribute)] = member
            for qualified, function in members.items():
                if _unannotated(function):
                    missing[qualified] = _unannotated(function)
        self.assertEqual(missing, {})
        self.assertTrue(os.path.isfile(os.path.join(PACKAGE, "py.typed")))

    def test_mypy_strict_accepts_the_typed_example_and_refuses_a_wrong_call(self):
        import importlib.util
        import subprocess
        if importlib.util.find_spec("mypy") is None:
            self.skipTest("mypy (a dev tool) is not installed for %s" % sys.executable)
        example = os.path.join(support.EXAMPLES, "typed", "example_typed.py")
        wrong = os.path.join(tempfile.mkdtemp(prefix="typed-"), "wrong.py")
        self.addCleanup(support._remove, os.path.dirname(wrong))
        with open(wrong, "w") as handle:
            handle.write("import tempguard\ntempguard.create_temp_file(123)\n")

        def mypy(path):
            # tempguard's own modules are not checked (silent): its callers are.
            return subprocess.run(
                [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent",
                 "--cache-dir=" + os.devnull, "--no-error-summary", path],
                cwd=os.path.dirname(PACKAGE), stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, universal_newlines=True, timeout=600)
        completed = mypy(example)
        self.assertEqual(completed.returncode, 0, completed.stdout)
        completed = mypy(wrong)
        self.assertEqual(completed.returncode, 1, completed.stdout)
        self.assertIn('Argument 1 to "create_temp_file" has incompatible type "int"',
                      completed.stdout)

    def test_the_typed_example_runs_and_leaves_nothing(self):
        completed, scratch = support.run_runner(self, "typed", "example_typed", "--leaks", "fail")
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertIn("Ran 2 tests", completed.stderr)
        self.assertEqual(os.listdir(scratch), [])


class MetadataTest(unittest.TestCase):

    def test_metadata_names_every_supported_python(self):
        import configparser
        config = configparser.ConfigParser()
        config.read(os.path.join(support.PROJECT, "setup.cfg"))
        classifiers = config["metadata"]["classifiers"]
        for minor in range(6, 14):
            self.assertIn("Programming Language :: Python :: 3.%d" % minor, classifiers)
        self.assertEqual(config["options"]["python_requires"].strip(), ">=3.6")
