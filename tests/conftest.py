import sys
from pathlib import Path

import pytest

# Test helpers (extract_builder, extracts_helpers, broken_corpus) live beside the tests.
sys.path.insert(0, str(Path(__file__).parent))

from extract_builder import make_extract  # noqa: E402


@pytest.fixture
def extract(tmp_path):
    """The valid base extract as CSV."""
    return make_extract(tmp_path)
