"""tempguard's public API as a typed project uses it: mypy --strict checks this module
(tests/test_packaging.py), and it runs as a suite."""

import pathlib
import unittest
from typing import List

import tempguard
from tempguard import CleanupResult, ContextStats, TempGuardMixin, TrackingContext


def make_inputs(names: List[str]) -> pathlib.Path:
    """A tracked tree of empty files, one a name."""
    root = tempguard.create_temp_tree({name: b"" for name in names})
    for name in names:
        tempguard.register_file(root / name)  # already tracked: adopting again is harmless
    return root


class TypedTest(TempGuardMixin, unittest.TestCase):
    tempguard_leaks = "fail"

    def test_helpers(self) -> None:
        path: pathlib.Path = self.temp_file("text", suffix=".txt")
        folder: pathlib.Path = self.temp_dir(name="named")
        tree: pathlib.Path = self.temp_tree({"a/b.txt": "b", "empty/": None})
        self.assertEqual(path.read_text(), "text")
        self.assertTrue(folder.is_dir() and (tree / "a" / "b.txt").is_file())
        context: TrackingContext = self.temp_context
        self.assertIn(path, context.tracked_paths())
        self.assertNoTempLeaks()

    def test_functions(self) -> None:
        with tempguard.tracking("typed") as context:
            made = tempguard.create_temp_file(b"\x00", prefix="typed-")
            inputs = make_inputs(["one", "two"])
            self.assertIs(tempguard.current_context(), context)
        result: CleanupResult = context.cleanup()  # already cleaned on leaving: nothing left
        self.assertTrue(result.ok)
        self.assertFalse(made.exists() or inputs.exists())
        self.assertTempCleaned(made)
        stats: ContextStats = tempguard.get_stats()
        self.assertGreaterEqual(stats.as_dict()["created"], 3)


if __name__ == "__main__":
    unittest.main()
