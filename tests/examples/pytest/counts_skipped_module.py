"""A module skipped at collection: pytest counts it once, as skipped."""

import pytest

pytest.skip("skipped at collection", allow_module_level=True)
