"""The report without Quarto: one self-contained HTML document from the executed notebook (nbconvert).

It reads like the Quarto rendering and prints like a document:

- a title, a table of contents (chapters and sections) and numbered sections
  (``1``, ``1.1``); headings marked ``{.unnumbered}`` keep no number, as in Quarto;
- every ``#| label: tbl-…``/``fig-…`` cell with a ``tbl-cap``/``fig-cap`` is
  numbered in document order; a table gets a real ``<caption>`` («Tabell 3: …»)
  and the id of its label, a figure becomes ``<figure>`` with ``<figcaption>``;
- ``@tbl-x``/``@fig-x`` become links «tabell 3»/«figur 1» to them (``@Tbl-``
  gives «Tabell»);
- a readable line length (about 75 characters), and a print stylesheet: A4,
  captions kept with their tables and figures, headings never left at the foot
  of a page, table headers repeated on each page;
- nothing fetched from the network: nbconvert's ``basic`` template (no
  scripts), images embedded, the house CSS inline.

Cells marked ``#| include: false``, raw cells and cells tagged ``remove-cell``
(papermill's injected parameters) are dropped; no code is shown.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..imports import NBFORMAT_UNUSED, without

with without(*NBFORMAT_UNUSED):  # 1.5 s of format checkers (grammars) for formats nbformat never checks
    import nbformat

from ..safety.markup import escape
from .typography import tie_title

__all__ = ["CAPTION_WORD", "number_floats", "render_fallback", "FALLBACK_CSS"]

REMOVE_TAGS = {"remove-cell", "injected-parameters", "parameters"}
CAPTION_WORD = {"tbl": "Tabell", "fig": "Figur"}
_LABEL = re.compile(r"^#\|\s*label:\s*(?P<v>\S+)\s*$", re.M)
_CAP = re.compile(r"^#\|\s*(?P<kind>tbl|fig)-cap:\s*(?P<v>.+?)\s*$", re.M)
_INCLUDE_FALSE = re.compile(r"^#\|\s*include:\s*false\s*$", re.M)
_REF = re.compile(r"@(?P<cap>[Tt]bl|[Ff]ig)-(?P<name>[\w-]+)")
_HEADING = re.compile(r"^(?P<hashes>#+) (?P<text>.*?)[ \t]*(?P<attr>\{[^}\n]*\})?[ \t]*$", re.M)

FALLBACK_CSS = """
:root { --text: #1a1a1a; --muted: #555; --rule: #d0d0d0; --accent: #0b5394; }
*, *::before, *::after { box-sizing: border-box; }
html { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; color: var(--text);
  font-size: 16px; line-height: 1.5; }
body { margin: 0; padding: 1.5rem 1rem 4rem; }
header, nav#toc, main { max-width: 46rem; margin: 0 auto; }
header h1 { font-size: 2rem; margin: 1rem 0 0.25rem; }
header p { color: var(--muted); margin: 0 0 1.5rem; }
nav#toc { border: 1px solid var(--rule); padding: 0.75rem 1.25rem; margin-bottom: 2rem; }
nav#toc h2 { font-size: 1.1rem; margin: 0 0 0.5rem; }
nav#toc ol { list-style: none; padding-left: 0; margin: 0; }
nav#toc ol ol { padding-left: 1.5rem; }
nav#toc a { color: var(--accent); text-decoration: none; }
.secnum { margin-right: 0.5em; }
h1 { font-size: 1.6rem; margin-top: 2.5rem; border-bottom: 1px solid var(--rule); }
h2 { font-size: 1.3rem; margin-top: 2rem; }
h3 { font-size: 1.1rem; }
a { color: var(--accent); }
.anchor-link { display: none; }
main img { max-width: 100%; height: auto; }
figure { margin: 1.5rem 0; }
figcaption, caption { font-weight: 600; text-align: left; padding: 0.25rem 0 0.5rem; }
figcaption { padding-top: 0.5rem; }
table caption { caption-side: top; }
.opr-table { margin: 1.5rem 0; overflow-x: auto; }
@media print {
  @page { size: A4; margin: 2cm 1.8cm; }
  html { font-size: 10.5pt; }
  body { padding: 0; }
  header, nav#toc, main { max-width: none; }
  nav#toc { border: none; break-after: page; }
  a { color: inherit; text-decoration: none; }
  h1, h2, h3, h4 { break-after: avoid; page-break-after: avoid; break-inside: avoid; }
  figure, .opr-table table { break-inside: avoid; page-break-inside: avoid; }
  caption, figcaption { break-after: avoid; page-break-after: avoid; }
  thead { display: table-header-group; }
  tr { break-inside: avoid; page-break-inside: avoid; }
  p { orphans: 3; widows: 3; }
}
"""


def _drop_hidden(nb) -> None:
    kept = []
    for cell in nb.cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if cell.cell_type == "raw" or tags & REMOVE_TAGS:
            continue
        if cell.cell_type == "code" and _INCLUDE_FALSE.search(cell.source):
            continue
        kept.append(cell)
    nb.cells = kept


def number_floats(nb) -> dict[str, tuple[str, int, str]]:
    """label -> (kind, number, caption) for every captioned table/figure cell that has output."""
    floats: dict[str, tuple[str, int, str]] = {}
    counters = {"tbl": 0, "fig": 0}
    for cell in nb.cells:
        if cell.cell_type != "code" or not cell.get("outputs"):
            continue
        label, cap = _LABEL.search(cell.source), _CAP.search(cell.source)
        if label and cap:
            kind = cap["kind"]
            counters[kind] += 1
            floats[label["v"]] = (kind, counters[kind], cap["v"].strip().strip('"'))
            cell.metadata["opr_float"] = label["v"]
    return floats


def _link_references(text: str, floats: dict) -> str:
    def one(m: re.Match) -> str:
        kind = m["cap"].lower()
        label = f"{kind}-{m['name']}"
        word = CAPTION_WORD[kind] if m["cap"][0].isupper() else CAPTION_WORD[kind].lower()
        if label not in floats:
            return f"{word} ?"
        return f"[{word}\u00a0{floats[label][1]}](#{label})"

    return _REF.sub(one, text)


def _mark_headings(text: str, unnumbered: set[str]) -> str:
    def one(m: re.Match) -> str:
        if m["attr"] and "unnumbered" in m["attr"]:
            unnumbered.add(m["text"].strip())
        return f"{m['hashes']} {m['text']}"

    return _HEADING.sub(one, text)


def _prepare(nb) -> tuple[dict, set[str]]:
    _drop_hidden(nb)
    floats = number_floats(nb)
    unnumbered: set[str] = set()
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = _mark_headings(_link_references(cell.source, floats), unnumbered)
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if "text/markdown" in data:
                data["text/markdown"] = _mark_headings(_link_references(data["text/markdown"], floats), unnumbered)
    return floats, unnumbered


def _decorate(body: str, floats: dict, unnumbered: set[str]):
    """Captions, figure elements, section numbers and the table of contents (BeautifulSoup)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(body, "html.parser")
    for cell in soup.select("div.cell"):
        cell_id = (cell.get("id") or "").removeprefix("cell-id=")
        cell["data-cell"] = cell_id
        del cell["id"]
    # The first element marked for each label, found in one pass (a search of the whole page per label
    # cost more than the rest of the decoration).
    marked: dict[str, object] = {}
    for element in soup.find_all(attrs={"data-opr-float": True}):
        marked.setdefault(element["data-opr-float"], element)
    for label, (kind, number, caption) in floats.items():
        cell = marked.get(label)
        if cell is None:
            continue
        text = f"{CAPTION_WORD[kind]}\u00a0{number}: {caption}"
        if kind == "tbl":
            table = cell.find("table")
            if table is None:
                continue
            cap = soup.new_tag("caption")
            cap.string = text
            table.insert(0, cap)
            wrapper = table.find_parent("div", id=re.compile("^opr-")) or table
            wrapper["class"] = [*wrapper.get("class", []), "opr-table"]
            table["id"] = label
        else:
            img = cell.find("img")
            if img is None:
                continue
            fig = soup.new_tag("figure", id=label)
            img.wrap(fig)
            figcap = soup.new_tag("figcaption")
            figcap.string = text
            fig.append(figcap)
    for anchor in soup.select("a.anchor-link"):
        anchor.decompose()
    toc = []
    counters = [0, 0, 0]
    for h in soup.find_all(["h1", "h2", "h3"]):
        level = int(h.name[1])
        title = h.get_text().strip()
        if title in unnumbered:
            number = None
        else:
            counters[level - 1] += 1
            counters[level:] = [0] * (3 - level)
            number = ".".join(str(c) for c in counters[:level])
            span = soup.new_tag("span", attrs={"class": "secnum"})
            span.string = number
            h.insert(0, span)
        if level <= 2 and h.get("id"):
            toc.append((level, number, title, h["id"]))
    return soup, toc


def _toc_html(toc: list) -> str:
    out, open_sub = ['<nav id="toc" aria-label="Innhold"><h2>Innhold</h2><ol>'], False
    for i, (level, number, title, anchor) in enumerate(toc):
        item = f'<a href="#{escape(anchor)}">{(number + " ") if number else ""}{escape(title)}</a>'
        if level == 1:
            if open_sub:
                out.append("</ol></li>")
                open_sub = False
            elif i:
                out.append("</li>")
            out.append(f"<li>{item}")
        else:
            if not open_sub:
                out.append("<ol>")
                open_sub = True
            out.append(f"<li>{item}</li>")
    out.append("</ol></li>" if open_sub else "</li>" if toc else "")
    out.append("</ol></nav>")
    return "".join(out)


def render_fallback(executed: str | Path, target: str | Path, title: str, subtitle: str = "") -> Path:
    """Write ``target``: the executed notebook as one self-contained HTML document (see module docstring)."""
    from nbconvert import HTMLExporter

    nb = nbformat.read(executed, as_version=4)
    # Execution times and kernel details vary between runs; the page must not.
    nb.metadata = {k: v for k, v in nb.metadata.items() if k in ("kernelspec", "language_info")}
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
    floats, unnumbered = _prepare(nb)
    label_of = {c.get("id"): c.metadata.get("opr_float") for c in nb.cells if c.metadata.get("opr_float")}
    exporter = HTMLExporter(
        template_name="basic",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    for cell_id, label in label_of.items():
        body = body.replace(f'id="cell-id={cell_id}"', f'id="cell-id={cell_id}" data-opr-float="{label}"', 1)
    soup, toc = _decorate(body, floats, unnumbered)
    page = (
        '<!DOCTYPE html>\n<html lang="nb">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{FALLBACK_CSS}</style>\n</head>\n<body>\n"
        f'<header><h1 class="title">{tie_title(escape(title))}</h1>'
        + (f"<p>{escape(subtitle)}</p>" if subtitle else "")
        + "</header>\n"
        + _toc_html(toc)
        + "\n<main>\n"
        + str(soup)
        + "\n</main>\n</body>\n</html>\n"
    )
    target = Path(target)
    target.write_text(page, encoding="utf-8")
    return target
