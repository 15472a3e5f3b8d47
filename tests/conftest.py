import sys
from pathlib import Path

import pytest

# Test helpers (helpers, broken_corpus) live beside the tests.
sys.path.insert(0, str(Path(__file__).parent))

from helpers import write_base_extract  # noqa: E402


@pytest.fixture(autouse=True)
def no_extract_cache(monkeypatch):
    """Tests read their extracts afresh: the validated-extract cache (extract/cache.py) would write beside
    each test's folder, outside its tmp_path, and a second load would not exercise the reader. The cache's
    own tests switch it on with a folder inside their tmp_path."""
    monkeypatch.setenv("OPR_CACHE", "0")


@pytest.fixture
def extract(tmp_path):
    """The valid base extract as CSV."""
    return write_base_extract(tmp_path)
