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


@pytest.fixture(scope="session", autouse=True)
def _no_quarto_unless_asked():
    """No test sees Quarto through the environment, module- and session-scoped report fixtures included:
    every report test (and each `opr report` it starts) uses the nbconvert fallback, so the fallback stays
    tested on machines that have Quarto. The tests marked ``quarto`` pass :data:`QUARTO` explicitly."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("QUARTO_PATH", NO_QUARTO)
        yield


@pytest.fixture
def extract(tmp_path):
    """The valid base extract as CSV."""
    return write_base_extract(tmp_path)
