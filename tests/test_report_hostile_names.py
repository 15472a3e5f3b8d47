"""Issue 23: data quoted into the report never becomes markup. A per-unit report (``opr report --unit``,
the fallback HTML) of an extract whose units carry hostile names is parsed as a browser would parse it:
no event handler, no ``javascript:`` URL, no injected element; every name is shown as the text it is."""

from __future__ import annotations

import pandas as pd
from bs4 import BeautifulSoup
from conftest import HOSTILE_UNIT_NAMES as HOSTILE

from opr_analysis.safety.markup import escape

# The run: tests/conftest.py's `unit_report` (shared with tests/test_report_units.py), `opr report --unit u2`.
# Not marked slow, though it needs that run: make test starts the slow files first, so test_report_units.py
# makes the run early and this file, started later, reads it instead of waiting for it.


URL_ATTRIBUTES = {"href", "src", "srcdoc", "action", "formaction", "xlink:href", "data", "poster", "background"}


def _live_markup(soup: BeautifulSoup) -> list[str]:
    """Event handlers, script URLs and elements the page does not make itself (images are embedded data)."""
    found = []
    for tag in soup.find_all(True):
        for name, value in tag.attrs.items():
            values = value if isinstance(value, list) else [value]
            if name.lower().startswith("on"):
                found.append(f"<{tag.name} {name}>")
            if name.lower() in URL_ATTRIBUTES and any("javascript:" in str(v).lower().replace(" ", "") for v in values):
                found.append(f"<{tag.name} {name}={values}>")
    found += [f"<{t.name}>" for t in soup.find_all(["iframe", "svg", "object", "embed"])]
    found += [
        f"<img src={t.get('src')}>" for t in soup.find_all("img") if not str(t.get("src", "")).startswith("data:")
    ]
    found += [
        f"<a href={a.get('href')}>" for a in soup.find_all("a") if not str(a.get("href", "#")).startswith(("#", "http"))
    ]
    return found


def test_hostile_unit_names_never_become_live_markup(unit_report):
    (page,) = (p for p in unit_report.files if p.suffix == ".html")
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    assert _live_markup(soup) == []
    assert not soup.find_all("script") or all("alert(" not in s.get_text() for s in soup.find_all("script"))
    text = " ".join(soup.get_text(" ").split())
    name = " ".join(HOSTILE["u2"].split())
    # the unit's own name as text: in the title and in the chapter's sentence; never a link or an image
    assert f"Årsrapport 2024 for OUS smerteregister – {name}" in text
    assert f"Kapitlet viser tallene for {name} med hele registeret ved siden av." in text
    assert "alert(22)" in text and not soup.find("a", string="klikk")


def test_one_escaping_function_for_markdown_and_html_sentences():
    """The chapter's sentence quotes the unit's name escaped, whatever the name holds (no markup, no line)."""
    from opr_analysis.report import indicator_report as ir

    view = ir.UnitView(None, None, "u3", pd.DataFrame({"unit_id": ["u3"], "name": [HOSTILE["u3"]]}),
                       pd.DataFrame(), {})  # fmt: skip
    text = ir.chapter_markdown(view, 2024)
    assert f"Kapitlet viser tallene for {escape(HOSTILE['u3'])} med" in text
    assert "<" not in escape(HOSTILE["u3"]) and "\n" not in escape(HOSTILE["u3"]) and "{year}" not in text
    assert "Tallene for 2024 står i @tbl-indikatorer" in text  # the chapter's own cross-references stay
