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
def no_env_keys(monkeypatch):
    """No project or delivery-register key from the environment: keys come from the test's own key store."""
    for var in list(os.environ):
        if var.startswith(("OPR_EXTRACT_KEY", "OPR_REGISTER_KEY")):
            monkeypatch.delenv(var)
