import re
from pathlib import Path

import pytest

from opr_analysis.errors import UsageError
from opr_analysis.report.pipeline import NOTEBOOK, TEXTS
from opr_analysis.report.texts import glossary_markdown, load_glossary, load_text, text_files


def test_year_version_wins_and_year_is_filled_in(tmp_path):
    (tmp_path / "forord.md").write_text("Standard for $report_year, kostet $5.", encoding="utf-8")
    (tmp_path / "2024").mkdir()
    (tmp_path / "2024" / "forord.md").write_text("Eget forord for $report_year.", encoding="utf-8")
    assert load_text("forord", tmp_path, 2024) == "Eget forord for 2024."
    assert load_text("forord", tmp_path, 2023) == "Standard for 2023, kostet $5."


def test_missing_text_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="forord.md"):
        load_text("forord", tmp_path, 2024)


def test_glossary_sorted_case_insensitively(tmp_path):
    (tmp_path / "ordliste.yaml").write_text("b: to\nA: en\nc: tre\n", encoding="utf-8")
    assert list(load_glossary(tmp_path)) == ["A", "b", "c"]
    assert glossary_markdown(tmp_path).splitlines()[0] == "- **A**: en"


def test_every_text_the_notebook_uses_is_shipped():
    source = Path(NOTEBOOK).read_text(encoding="utf-8")
    names = set(re.findall(r'text\(\\"(\w+)\\"\)', source))
    assert {"forord", "styring", "prosjekter", "forbedringstiltak", "konklusjon"} <= names
    for name in names:
        assert load_text(name, TEXTS, 2024).strip()
    assert load_glossary(TEXTS)
    assert TEXTS / "ordliste.yaml" in text_files(TEXTS)


def test_shipped_texts_are_placeholders_without_seed_names():
    text = "\n".join(p.read_text(encoding="utf-8") for p in text_files(TEXTS))
    for name in ("Granan", "Ekholdt", "Stubhaug"):
        assert name not in text


def test_placeholder_texts_are_named_until_the_registry_rewrites_them(tmp_path):
    from opr_analysis.report.texts import placeholder_texts

    (tmp_path / "forord.md").write_text("*Plassholder – skrives av registeret.*", encoding="utf-8")
    (tmp_path / "konklusjon.md").write_text("Registeret har hatt et godt år.", encoding="utf-8")
    (tmp_path / "README.md").write_text("Tekstene er plassholdere.", encoding="utf-8")
    assert placeholder_texts(tmp_path, 2024) == ["forord"]
    (tmp_path / "2024").mkdir()
    (tmp_path / "2024" / "forord.md").write_text("Forordet for 2024.", encoding="utf-8")
    assert placeholder_texts(tmp_path, 2024) == [] and placeholder_texts(tmp_path, 2023) == ["forord"]
