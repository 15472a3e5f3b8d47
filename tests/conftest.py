import pytest

from extract_builder import make_extract


@pytest.fixture
def extract(tmp_path):
    """The valid base extract as CSV."""
    return make_extract(tmp_path)
