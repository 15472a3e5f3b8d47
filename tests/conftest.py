import os
import sys
from pathlib import Path

import pytest

# Test helpers (helpers, broken_corpus) live beside the tests.
sys.path.insert(0, str(Path(__file__).parent))

from helpers import write_base_extract  # noqa: E402

from opr_analysis.report.pipeline import find_quarto  # noqa: E402

#: The Quarto this session may use (``QUARTO_PATH`` or ``quarto`` on PATH), found before any test hides it.
QUARTO = find_quarto()
NO_QUARTO = os.path.join(os.sep, "nonexistent", "quarto")


@pytest.fixture(autouse=True)
def _quarto_only_where_asked(request, monkeypatch):
    """Quarto is visible only to tests marked ``quarto``; every other report test (and each `opr report`
    it starts) uses the nbconvert fallback, so the fallback stays tested on machines that have Quarto."""
    if request.node.get_closest_marker("quarto") is None:
        monkeypatch.setenv("QUARTO_PATH", NO_QUARTO)


@pytest.fixture
def extract(tmp_path):
    """The valid base extract as CSV."""
    return write_base_extract(tmp_path)
