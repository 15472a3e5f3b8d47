import os
import sys
from pathlib import Path

import pytest

# Test helpers (helpers, broken_corpus) live beside the tests.
sys.path.insert(0, str(Path(__file__).parent))

from helpers import write_base_extract  # noqa: E402


@pytest.fixture
def extract(tmp_path):
    """The valid base extract as CSV."""
    return write_base_extract(tmp_path)


@pytest.fixture
def keys(tmp_path, monkeypatch):
    """A key store of the test's own, with no master key from the environment (research deliveries)."""
    for var in list(os.environ):
        if var.startswith("OPR_EXTRACT_KEY"):
            monkeypatch.delenv(var)
    return tmp_path / "keys"
