"""The profile as one self-contained HTML page (A4 print stylesheet), and the clinic day's index page.

Layout only: the text is :mod:`.cells`' and every piece of it reaches the page through
:func:`escape`, the one function that quotes data into HTML (``html.escape`` with quotes),
so an id, a diagnosis or a label can never become markup. The figure is embedded as a PNG
``data:`` URI, the stylesheet inline; the page loads nothing from anywhere. Printed, the page
is A4 with 12 mm margins, sections kept whole where they fit, headings kept with what
follows; a profile takes one or two pages.
"""

from __future__ import annotations

import base64
import html

from .. import __version__
from .cells import (
    CONFIDENTIAL,
    MCID_MARK,
    SUBTITLE,
    TITLE,
    background_cells,
    baseline_cells,
    baseline_title,
    caveat_cells,
    change_tables,
    fmt_date,
    header_cells,
    method_notes,
    timeline_cells,
)

__all__ = ["CSS", "escape", "index_html", "profile_html"]


def escape(text) -> str:
    """Quote ``text`` for HTML text and attribute values (``&``, ``<``, ``>``, ``"``, ``'``).

    >>> escape('<b onclick="x">Ås & co</b>')
    '&lt;b onclick=&quot;x&quot;&gt;Ås &amp; co&lt;/b&gt;'
    """
    return html.escape("" if text is None else str(text), quote=True)


CSS = """
@page { size: A4; margin: 12mm 12mm 13mm 12mm; }
* { box-sizing: border-box; }
html { font-family: "Liberation Sans", Arial, "Helvetica Neue", Helvetica, sans-serif; font-size: 9.5pt;
       color: #111; line-height: 1.3; }
body { margin: 0; }
main { max-width: 186mm; margin: 0 auto; padding: 10mm 0; }
h1 { font-size: 16pt; margin: 0; }
h2 { font-size: 11pt; margin: 4mm 0 1.5mm; padding-bottom: 0.5mm; border-bottom: 1px solid #888; }
h3 { font-size: 9.5pt; margin: 2.5mm 0 1mm; }
p { margin: 1mm 0; }
.sub { color: #444; margin: 0 0 2mm; }
.facts { display: grid; grid-template-columns: auto 1fr auto 1fr; gap: 0.5mm 3mm; margin: 0; }
.facts dt { font-weight: bold; }
.facts dd { margin: 0; }
.confidential { font-size: 8pt; color: #444; border: 1px solid #bbb; padding: 1mm 2mm; margin-top: 2mm; }
table { border-collapse: collapse; width: 100%; font-size: 8.6pt; margin: 1mm 0; }
th, td { padding: 0.6mm 1.5mm; text-align: left; vertical-align: top; border-bottom: 1px solid #ddd; }
thead th { border-bottom: 1.2px solid #555; font-weight: bold; }
td.num, th.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.date { white-space: nowrap; }
tr.planned td { color: #555; font-style: italic; }
.change td { white-space: nowrap; }
.change th { white-space: normal; }
.change td:not(:first-child), .change th:not(:first-child) { text-align: right; }
.background { display: grid; grid-template-columns: auto 1fr; gap: 0.3mm 3mm; margin: 1.5mm 0 0;
              font-size: 8.6pt; }
.background dt { font-weight: bold; }
.background dd { margin: 0; }
figure { margin: 1mm 0; }
figure img { width: 100%; height: auto; display: block; }
figcaption, .legend { font-size: 8pt; color: #333; }
ul.caveats { margin: 1mm 0; padding-left: 5mm; font-size: 8.6pt; }
ol.notes { margin: 1mm 0; padding-left: 4mm; font-size: 7pt; line-height: 1.25; color: #333; columns: 2; column-gap: 6mm; }
ol.notes li { break-inside: avoid; }
footer .made { font-size: 7.4pt; color: #555; }
@media screen {
  html { background: #eef0f2; }
  main { background: #fff; padding: 12mm; margin: 6mm auto; box-shadow: 0 1px 4px rgba(0,0,0,.25); }
}
@media print {
  main { padding: 0; max-width: none; }
  section, figure, table, .facts, .background { break-inside: avoid; }
  #forlop, #forlop table, #merknader, footer { break-inside: auto; }
  tr { break-inside: avoid; }
  h2, h3 { break-after: avoid; }
  a { color: inherit; text-decoration: none; }
}
"""


def _head(title: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="nb">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="robots" content="noindex">\n'
        f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
    )


PLANNED = ' class="planned"'
_TAIL = "</main>\n</body>\n</html>\n"


def _table(header: list[str], rows: list[list[str]], classes: list[str] | None = None, css: str = "") -> str:
    classes = classes or [""] * len(header)
    head = "".join(
        f'<th class="{c}">{escape(h)}</th>' if c else f"<th>{escape(h)}</th>" for h, c in zip(header, classes)
    )
    body = []
    for row in rows:
        tds = "".join(
            f'<td class="{c}">{escape(v)}</td>' if c else f"<td>{escape(v)}</td>" for v, c in zip(row, classes)
        )
        body.append(f"<tr>{tds}</tr>")
    cls = f' class="{css}"' if css else ""
    return f"<table{cls}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>\n"


def _header(p) -> str:
    facts = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in header_cells(p))
    return (
        f'<header>\n<h1>{escape(TITLE)}</h1>\n<p class="sub">{escape(SUBTITLE)}</p>\n'
        f'<dl class="facts">{facts}</dl>\n<p class="confidential">{escape(CONFIDENTIAL)}</p>\n</header>\n'
    )


def _baseline(p) -> str:
    rows = [[r["label"], r["value"], r["category"], r["percentile"], r["reference"]] for r in baseline_cells(p)]
    out = [f'<section id="baseline">\n<h2>{escape(baseline_title(p))}</h2>\n']
    if p.baseline is not None:
        out.append(
            _table(
                ["Mål", "Skår", "Grense eller kategori", "Persentil¹", "Referanse (N)"],
                rows,
                ["", "num", "", "num", "num"],
                "scores",
            )
        )
        out.append(
            '<p class="legend">¹ Blant registerets pasienter av samme kjønn og aldersgruppe før '
            f"{escape(p.reference_year)} (se «Slik er tallene regnet»). Høy skår er verre, unntatt EQ-5D-5L "
            "indeks og EQ VAS.</p>\n"
        )
    background = background_cells(p)
    if background:
        items = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in background)
        out.append(f'<dl class="background">{items}</dl>\n')
    out.append("</section>\n")
    return "".join(out)


def _timeline(p) -> str:
    cells = timeline_cells(p)
    if not cells:
        return ""
    rows = "".join(
        f'<tr{PLANNED if c["planned"] else ""}><td class="date">{escape(c["date"])}</td>'
        f"<td>{escape(c['event'])}</td><td>{escape(c['detail'])}</td></tr>"
        for c in cells
    )
    return (
        '<section id="forlop">\n<h2>Forløp</h2>\n<table class="timeline"><thead><tr><th>Dato</th><th>Hendelse</th>'
        f"<th>Detaljer</th></tr></thead><tbody>{rows}</tbody></table>\n</section>\n"
    )


def _changes(p) -> str:
    tables = change_tables(p)
    if not tables:
        return ""
    out = ['<section id="endring">\n<h2>Hva har skjedd siden: endring fra baseline</h2>\n']
    for t in tables:
        out.append(f"<h3>{escape(t['title'])}</h3>\n")
        out.append(_table(t["header"], t["rows"], css="change"))
    out.append(
        f'<p class="legend">Hver celle: skår ved oppfølgingen (endring fra baseline; relativ endring der grensen er '
        f"relativ). {escape(MCID_MARK)} = klinisk viktig bedring (se «Slik er tallene regnet»).</p>\n</section>\n"
    )
    return "".join(out)


def _figure(p, png: bytes | None, alt: str) -> str:
    if png is None:
        return ""
    data = base64.b64encode(png).decode("ascii")
    return (
        '<section id="figur">\n<h2>Skårene over tid mot referansegruppen</h2>\n<figure>'
        f'<img src="data:image/png;base64,{data}" alt="{escape(alt)}">'
        "<figcaption>Pasientens skår (blå) ved baseline og oppfølginger; grå søyle: kvartilene i "
        "referansegruppen på samme tidspunkt (baseline eller samme oppfølgingstype), strek: medianen; stiplet "
        "linje: behandling.</figcaption></figure>\n</section>\n"
    )


def _caveats(p) -> str:
    items = caveat_cells(p)
    body = "".join(f"<li>{escape(c)}</li>" for c in items) if items else "<li>Ingen.</li>"
    return f'<section id="merknader">\n<h2>Datamerknader</h2>\n<ul class="caveats">{body}</ul>\n</section>\n'


def _footer(p) -> str:
    notes = "".join(f"<li>{escape(n)}</li>" for n in method_notes(p))
    return (
        f'<footer>\n<h2>Slik er tallene regnet</h2>\n<ol class="notes">{notes}</ol>\n'
        f'<p class="made">Laget av opr pasient (opr-analysis {escape(__version__)}) med data per '
        f"{escape(fmt_date(p.as_of))}.</p>\n</footer>\n"
    )


def profile_html(p, png: bytes | None = None, alt: str = "") -> str:
    """The whole page of profile ``p`` (a :class:`~.assemble.PatientProfile`), with the figure ``png``."""
    parts = [
        _head(f"{TITLE} {p.patient_id}"),
        _header(p),
        _baseline(p),
        _changes(p),
        _timeline(p),
        _figure(p, png, alt),
        _caveats(p),
        _footer(p),
        _TAIL,
    ]
    return "".join(parts)


def index_html(title: str, lines: list[str], header: list[str], rows: list[list[str]], links: list[dict]) -> str:
    """The clinic day's index page: ``title``, explanatory ``lines``, and a table whose first
    column links to each profile (``links[i]``: {"html": file, "pdf": file or None})."""
    body = []
    for row, link in zip(rows, links, strict=True):
        first = f'<a href="{escape(link["html"])}">{escape(row[0])}</a>'
        pdf = f' (<a href="{escape(link["pdf"])}">PDF</a>)' if link.get("pdf") else ""
        rest = "".join(f"<td>{escape(v)}</td>" for v in row[1:])
        body.append(f"<tr><td>{first}{pdf}</td>{rest}</tr>")
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    text = "".join(f"<p>{escape(line)}</p>\n" for line in lines)
    table = f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>\n" if rows else ""
    return (
        _head(title)
        + f'<header>\n<h1>{escape(title)}</h1>\n<p class="sub">{escape(SUBTITLE)}</p>\n</header>\n'
        + text
        + table
        + f'<p class="confidential">{escape(CONFIDENTIAL.replace("om én pasient", "om pasientene på listen"))}</p>\n'
        + _TAIL
    )
