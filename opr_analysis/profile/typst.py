"""The profile as a PDF: Typst source from the same cells as the HTML page, compiled by Quarto's Typst.

Quarto (1.4+) ships Typst and runs it as ``quarto typst compile IN.typ OUT.pdf``; the report's
PDF is Typst too. Without Quarto there is no PDF (the command says so and writes the HTML).

Layout: A4, 12 mm margins; every page's footer names the patient and the page («side 1 av
2»), so printed pages of several patients cannot be mixed up. Text is :mod:`.cells`' and
reaches the source only through :func:`typ`, the one function that quotes data into Typst: a
string literal (``#"…"`` with ``\\`` and ``"`` escaped) inside a content block, which Typst
shows as it is — no markup, no code, no references.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import OprError
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

__all__ = ["profile_typst", "render_pdf", "typ"]

FIGURE_FILE = "figur.png"


def typ(text) -> str:
    """``text`` as a Typst string literal, which Typst shows exactly as written (no markup, no code).

    Used as an argument in code (``table(…, "…")``) and after ``#`` in markup (``== #"…"``).

    >>> print(typ('a "b" \\\\ #c [d] *e*'))
    "a \\"b\\" \\\\ #c [d] *e*"
    """
    s = "" if text is None else str(text)
    s = s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{s}"'


PREAMBLE = """#set document(title: {title})
#set page(paper: "a4", margin: (x: 12mm, top: 12mm, bottom: 15mm),
  footer: context [#set text(size: 7pt, fill: luma(90)); #{footer} #h(1fr) side #counter(page).display() av #counter(page).final().first()])
#set text(lang: "nb", font: ("Liberation Sans", "Arial", "Helvetica", "DejaVu Sans"), size: 9pt)
#set par(leading: 0.45em, spacing: 0.8em)
#show heading.where(level: 2): it => block(above: 3.5mm, below: 1.5mm, width: 100%, stroke: (bottom: 0.6pt + luma(120)), inset: (bottom: 0.8mm), text(size: 11pt, weight: "bold", it.body))
#show heading.where(level: 3): it => block(above: 2mm, below: 1mm, text(size: 9pt, weight: "bold", it.body))
#let rule(x, y) = (bottom: if y == 0 {{ 0.8pt + luma(80) }} else {{ 0.3pt + luma(210) }})
"""


def _table(header: list[str], rows: list[list[str]], columns: str, align: str, size: str = "8.3pt") -> str:
    head = ", ".join(f'text(weight: "bold", {typ(h)})' for h in header)
    cells = ",\n  ".join(", ".join(typ(v) for v in row) for row in rows)
    return (
        f"#block(breakable: true)[#set text(size: {size})\n#table(columns: {columns}, align: {align}, stroke: rule, "
        f"inset: (x: 3pt, y: 2pt),\n  table.header({head}),\n  {cells}\n)]\n"
    )


def _header(p) -> str:
    facts = ", ".join(f'text(weight: "bold", {typ(k)}), {typ(v)}' for k, v in header_cells(p))
    return (
        f'#text(size: 16pt, weight: "bold", {typ(TITLE)}) \\\n#text(fill: luma(70), {typ(SUBTITLE)})\n\n'
        f"#grid(columns: (auto, 1fr, auto, 1fr), column-gutter: 3mm, row-gutter: 1.2mm, {facts})\n\n"
        f"#block(stroke: 0.5pt + luma(160), inset: 1.5mm, width: 100%, text(size: 7.5pt, fill: luma(60), "
        f"{typ(CONFIDENTIAL)}))\n"
    )


def _baseline(p) -> str:
    out = [f"== #{typ(baseline_title(p))}\n"]
    if p.baseline is not None:
        rows = [[r["label"], r["value"], r["category"], r["percentile"], r["reference"]] for r in baseline_cells(p)]
        out.append(
            _table(
                ["Mål", "Skår", "Grense eller kategori", "Persentil¹", "Referanse (N)"],
                rows,
                "(auto, auto, 1fr, auto, auto)",
                "(left, right, left, right, right)",
            )
        )
        note = (
            f"¹ Blant registerets pasienter av samme kjønn og aldersgruppe før {p.reference_year} (se «Slik er "
            "tallene regnet»). Høy skår er verre, unntatt EQ-5D-5L indeks og EQ VAS."
        )
        out.append(f"#text(size: 7.5pt, fill: luma(60), {typ(note)})\n")
    background = background_cells(p)
    if background:
        items = ", ".join(f'text(weight: "bold", {typ(k)}), {typ(v)}' for k, v in background)
        out.append(f"#text(size: 8.3pt)[#grid(columns: (auto, 1fr), column-gutter: 3mm, row-gutter: 1mm, {items})]\n")
    return "\n".join(out)


def _changes(p) -> str:
    tables = change_tables(p)
    if not tables:
        return ""
    out = ["== #" + typ("Hva har skjedd siden: endring fra baseline") + "\n"]
    for t in tables:
        n = len(t["header"])
        out.append(f"=== #{typ(t['title'])}\n")
        out.append(
            _table(
                t["header"], t["rows"], f"(1fr, {', '.join(['auto'] * (n - 1))})", "(left, " + "right, " * (n - 1) + ")"
            )
        )
    legend = (
        "Hver celle: skår ved oppfølgingen (endring fra baseline; relativ endring der grensen er relativ). "
        f"{MCID_MARK} = klinisk viktig bedring (se «Slik er tallene regnet»)."
    )
    out.append(f"#text(size: 7.5pt, fill: luma(60), {typ(legend)})\n")
    return "\n".join(out)


def _timeline(p) -> str:
    cells = timeline_cells(p)
    if not cells:
        return ""
    rows = [[c["date"], c["event"], c["detail"]] for c in cells]
    return f"== #{typ('Forløp')}\n" + _table(["Dato", "Hendelse", "Detaljer"], rows, "(auto, 1fr, 1fr)", "left")


def _figure(p, has_figure: bool) -> str:
    if not has_figure:
        return ""
    caption = (
        "Pasientens skår (blå) ved baseline og oppfølginger; grå søyle: kvartilene i referansegruppen på samme "
        "tidspunkt (baseline eller samme oppfølgingstype), strek: medianen; stiplet linje: behandling."
    )
    return (
        f"#block(breakable: false)[\n== #{typ('Skårene over tid mot referansegruppen')}\n"
        f'#image("{FIGURE_FILE}", width: 100%)\n#text(size: 7.5pt, fill: luma(60), {typ(caption)})\n]\n'
    )


def _caveats(p) -> str:
    items = caveat_cells(p) or ["Ingen."]
    return f"== #{typ('Datamerknader')}\n#text(size: 8.3pt)[#list({', '.join(typ(c) for c in items)})]\n"


def _notes(p) -> str:
    # Two columns by hand: Typst fills a column to the foot of the page before it starts the next.
    notes = method_notes(p)
    half = (len(notes) + 1) // 2
    first = ", ".join(typ(n) for n in notes[:half])
    second = ", ".join(typ(n) for n in notes[half:])
    made = f"Laget av opr pasient med data per {fmt_date(p.as_of)}."
    return (
        f"== #{typ('Slik er tallene regnet')}\n#text(size: 6.8pt, fill: luma(50))[#grid(columns: (1fr, 1fr), "
        f"column-gutter: 5mm, enum({first}), enum(start: {half + 1}, {second}))]\n"
        f"#text(size: 6.8pt, fill: luma(90), {typ(made)})\n"
    )


def profile_typst(p, has_figure: bool) -> str:
    """The Typst source of profile ``p``; the figure, if any, is ``figur.png`` beside it."""
    name = typ(f"{TITLE} {p.patient_id}")
    head = PREAMBLE.format(title=name, footer=name)
    return "".join(
        [head, _header(p), _baseline(p), _changes(p), _timeline(p), _figure(p, has_figure), _caveats(p), _notes(p)]
    )


def render_pdf(quarto: str, source: str, figure_png: bytes | None, target: Path) -> None:
    """Compile ``source`` (with ``figure_png`` as ``figur.png``) to ``target`` with ``quarto typst compile``."""
    with tempfile.TemporaryDirectory(prefix="opr-profil-") as tmp:
        work = Path(tmp)
        (work / "profil.typ").write_text(source, encoding="utf-8")
        if figure_png is not None:
            (work / FIGURE_FILE).write_bytes(figure_png)
        cmd = [quarto, "typst", "compile", "profil.typ", "profil.pdf"]
        done = subprocess.run(cmd, cwd=work, capture_output=True, text=True)
        pdf = work / "profil.pdf"
        if done.returncode != 0 or not pdf.is_file():
            raise OprError(
                f"quarto typst compile feilet for {target.name}:\n{(done.stderr or done.stdout).strip()[-1500:]}"
            )
        shutil.move(pdf, target)
