"""The report's editable texts: plain Markdown and YAML files under ``reports/``.

The registry's staff rewrite the foreword, governance, projects, plans and
similar chapters each year without touching code. A text is looked up first
in ``reports/<year>/<name>.md`` (that year's version) and then in
``reports/<name>.md`` (the standing version). ``$report_year`` and other
``$names`` given by the notebook are filled in; a ``$`` that names nothing is
left as it is.

A text still holding the shipped placeholder (the word «Plassholder») is
listed by :func:`placeholder_texts`; ``opr report`` prints one warning line per
such text so that nobody publishes a placeholder by mistake. Headings in a text
start at level 2 (``##``): the notebook gives the chapter heading.

>>> from pathlib import Path; import tempfile
>>> d = Path(tempfile.mkdtemp()); _ = (d / "forord.md").write_text("Rapporten for $report_year.")
>>> load_text("forord", texts_dir=d, year=2024)
'Rapporten for 2024.'
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from string import Template

from pydantic import ConfigDict, RootModel

from ..errors import UsageError
from ..safety.schema import NonEmptyText

__all__ = [
    "text_path",
    "load_text",
    "load_glossary",
    "check_glossaries",
    "glossary_markdown",
    "text_files",
    "placeholder_texts",
]

PLACEHOLDER = re.compile(r"\bplassholder\b", re.IGNORECASE)


def text_path(name: str, texts_dir: str | os.PathLike, year: int | None = None, suffix: str = ".md") -> Path:
    """The file that holds text ``name`` for ``year`` (the year's own version wins)."""
    base = Path(texts_dir)
    candidates = ([base / str(year) / f"{name}{suffix}"] if year is not None else []) + [base / f"{name}{suffix}"]
    for path in candidates:
        if path.is_file():
            return path
    raise UsageError(f"fant ikke rapportteksten «{name}{suffix}» i {base} (se reports/README.md)")


def load_text(name: str, texts_dir: str | os.PathLike = "reports", year: int | None = None, **values) -> str:
    """The Markdown text ``name`` with ``$report_year`` (and any ``values``) filled in."""
    raw = text_path(name, texts_dir, year).read_text(encoding="utf-8").strip()
    return Template(raw).safe_substitute({"report_year": year, **values})


class Glossary(RootModel[dict[str, NonEmptyText]]):
    """The schema of ``ordliste.yaml``: «term: explanation», both text."""

    model_config = ConfigDict(strict=True)


def load_glossary(texts_dir: str | os.PathLike = "reports", year: int | None = None) -> dict[str, str]:
    """The glossary (term -> explanation), sorted by term as Norwegian readers expect (å last).

    Read through the guarded YAML loader and :class:`Glossary` (like every file a user hands the program).
    """
    from ..safety.limits import load_yaml_file
    from ..safety.schema import validate

    path = text_path("ordliste", texts_dir, year, suffix=".yaml")
    raw, _ = load_yaml_file(path, "ordlisten")
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise UsageError(f"{path}: ordlisten skal være «begrep: forklaring», én per linje")
    data = validate(Glossary, raw, path.name).root
    return dict(sorted(data.items(), key=lambda kv: kv[0].casefold()))


def check_glossaries(texts_dir: str | os.PathLike = "reports") -> None:
    """Read every ``ordliste.yaml`` under ``texts_dir`` (the standing one and each year's) as the report will,
    so that a broken or hostile glossary stops ``opr report`` before any work, not inside the notebook."""
    from ..safety.limits import load_yaml_file
    from ..safety.schema import validate

    for path in sorted(Path(texts_dir).glob("ordliste.yaml")) + sorted(Path(texts_dir).glob("*/ordliste.yaml")):
        name = path.name if path.parent == Path(texts_dir) else f"{path.parent.name}/{path.name}"
        raw, _ = load_yaml_file(path, "ordlisten", name)
        if raw is not None:
            validate(Glossary, raw, name)


def glossary_markdown(texts_dir: str | os.PathLike = "reports", year: int | None = None) -> str:
    """The glossary as a Markdown list (renders the same in Quarto and nbconvert)."""
    return "\n".join(f"- **{term}**: {text}" for term, text in load_glossary(texts_dir, year).items())


def text_files(texts_dir: str | os.PathLike = "reports") -> list[Path]:
    """Every text file under ``texts_dir`` (for the manifest's input hashes)."""
    base = Path(texts_dir)
    return sorted(p for p in base.rglob("*") if p.is_file() and p.suffix in (".md", ".yaml", ".yml"))


def placeholder_texts(texts_dir: str | os.PathLike = "reports", year: int | None = None) -> list[str]:
    """Names of the report texts (``forord``, …) that for ``year`` still hold the shipped placeholder."""
    base = Path(texts_dir)
    names = sorted(p.stem for p in base.glob("*.md") if p.stem.lower() != "readme")
    return [n for n in names if PLACEHOLDER.search(text_path(n, base, year).read_text(encoding="utf-8"))]
