"""The Word reference document of the annual report (``quarto_reference.docx``), made reproducibly.

Pandoc takes page size, margins, header and footer and every paragraph,
character and table style of a Word document from its reference document. This
module starts from pandoc's own default (``quarto pandoc --print-default-data-file
reference.docx``, so the style names are the ones pandoc writes) and changes only
what the report needs, so that Word looks like the HTML page:

- A4 portrait, margins 2,2 cm left and right, 2,5 cm top and bottom; the page
  number centred in the footer (a ``PAGE`` field).
- Arial for text and headings (Liberation Sans, its metric twin, where Arial is
  missing), 10,5 pt body text; headings bold in the text colour, chapter headings
  with a thin rule under them as on the web page.
- Captions («Tabell N: …», «Figur N: …») bold and left-aligned; a table caption and
  a figure's image keep with what follows, so neither is left alone at the foot of a
  page. The figure paragraph is centred.
- Tables (style «Table»): 9 pt, a rule under the header row and at the foot, a
  header row that repeats on every page; «Table Small» (7,5 pt) for the cells of
  a table too wide for 9 pt (``quarto_report.lua`` decides).
- Table-of-contents styles (``TOC1``/``TOC2``) for the contents that
  ``quarto_report.lua`` writes.

``make reference-docx`` (``python -m opr_analysis.report.reference_docx``)
writes the file; a test makes it again and compares the bytes. Zip entries carry
a fixed time stamp, so the same pandoc gives the same file. Needs python-docx
(the test extra) and Quarto's pandoc; it is a developer's tool, never run by
``opr report``.
"""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from pathlib import Path

__all__ = ["REFERENCE_DOCX", "build_reference_docx", "pandoc_default_reference", "main"]

REFERENCE_DOCX = Path(__file__).with_name("quarto_reference.docx")
FONT = "Arial"
TEXT_COLOUR = "1A1A1A"
RULE_COLOUR = "D0D0D0"
LINK_COLOUR = "0B5394"
ZIP_TIME = (2024, 1, 1, 0, 0, 0)


def pandoc_default_reference(quarto: str) -> bytes:
    """Pandoc's default reference.docx, from the pandoc that Quarto runs."""
    done = subprocess.run(
        [quarto, "pandoc", "--print-default-data-file", "reference.docx"], capture_output=True, check=True, timeout=120
    )
    return done.stdout


def _border(parent, edge: str, size: int = 6, colour: str = RULE_COLOUR):
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    el = OxmlElement(f"w:{edge}")
    el.set(qn("w:val"), "single")
    el.set(qn("w:sz"), str(size))
    el.set(qn("w:space"), "1")
    el.set(qn("w:color"), colour)
    parent.append(el)
    return el


def _replace(parent, tag: str):
    """``parent``'s child ``tag`` (w:…), made empty and new."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    for old in parent.findall(qn(tag)):
        parent.remove(old)
    el = OxmlElement(tag)
    parent.append(el)
    return el


def _paragraph_style(doc, name: str, *, size=None, bold=None, colour=TEXT_COLOUR, before=None, after=None,
                     keep_next=None, align=None, base=None, style_id=None, indent=None):  # fmt: skip
    from docx.enum.style import WD_STYLE_TYPE
    from docx.shared import Pt, RGBColor

    try:
        style = doc.styles[name]
    except KeyError:
        style = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    if style_id:
        style.element.styleId = style_id
    if base:
        style.base_style = doc.styles[base]
    font = style.font
    font.name = FONT
    rfonts = font.element.rPr.rFonts if font.element.rPr is not None else None
    if rfonts is not None:  # theme fonts (pandoc's headings use them) would win over the name
        for attr in list(rfonts.attrib):
            if attr.endswith("Theme"):
                del rfonts.attrib[attr]
    if size is not None:
        font.size = Pt(size)
    if bold is not None:
        font.bold = bold
    if colour is not None:
        font.color.rgb = RGBColor.from_string(colour)
    fmt = style.paragraph_format
    if before is not None:
        fmt.space_before = Pt(before)
    if after is not None:
        fmt.space_after = Pt(after)
    if keep_next is not None:
        fmt.keep_with_next = keep_next
    if align is not None:
        fmt.alignment = align
    if indent is not None:
        fmt.left_indent = Pt(indent)
    return style


def _page(doc) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2.2)
    section.top_margin = section.bottom_margin = Cm(2.5)
    section.footer_distance = Cm(1.2)
    footer = section.footer
    footer.is_linked_to_previous = False
    para = footer.paragraphs[0]
    para.style = doc.styles["Footer"] if "Footer" in [s.name for s in doc.styles] else para.style
    para.alignment = 1  # centre
    run = para.add_run()
    run.font.size = Pt(9)
    run.font.name = FONT
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    inner = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    inner.append(text)
    field.append(inner)
    run._r.append(field)


def _table_style(doc) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt

    style = doc.styles["Table"]
    style.font.name = FONT
    style.font.size = Pt(9)
    el = style.element
    tbl_pr = el.find(qn("w:tblPr"))
    if tbl_pr is None:
        tbl_pr = OxmlElement("w:tblPr")
        el.append(tbl_pr)
    borders = _replace(tbl_pr, "w:tblBorders")
    _border(borders, "top", 8, "4D4D4D")
    _border(borders, "bottom", 8, "4D4D4D")
    _border(borders, "insideH", 4)
    margins = _replace(tbl_pr, "w:tblCellMar")
    for edge, width in (("top", 30), ("left", 60), ("bottom", 30), ("right", 60)):
        m = OxmlElement(f"w:{edge}")
        m.set(qn("w:w"), str(width))
        m.set(qn("w:type"), "dxa")
        margins.append(m)
    # the header row: bold, a rule under it, repeated on each page
    for cond in el.findall(qn("w:tblStylePr")):
        el.remove(cond)
    first = OxmlElement("w:tblStylePr")
    first.set(qn("w:type"), "firstRow")
    rpr = OxmlElement("w:rPr")
    rpr.append(OxmlElement("w:b"))
    first.append(rpr)
    trpr = OxmlElement("w:trPr")
    trpr.append(OxmlElement("w:tblHeader"))
    first.append(trpr)
    tcpr = OxmlElement("w:tcPr")
    tc_borders = OxmlElement("w:tcBorders")
    _border(tc_borders, "bottom", 8, "4D4D4D")
    tcpr.append(tc_borders)
    tcpr.append(OxmlElement("w:vAlign"))
    tcpr[-1].set(qn("w:val"), "bottom")
    first.append(tcpr)
    el.append(first)


def build_reference_docx(default: bytes) -> bytes:
    """The report's reference document made from pandoc's ``default`` (module docstring)."""
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt, RGBColor

    doc = docx.Document(io.BytesIO(default))
    _page(doc)
    normal = _paragraph_style(doc, "Normal", size=10.5)
    normal.paragraph_format.line_spacing = 1.15
    _paragraph_style(doc, "Body Text", before=3, after=6)
    _paragraph_style(doc, "First Paragraph", before=3, after=6)
    _paragraph_style(doc, "Compact", before=1, after=1)
    _paragraph_style(doc, "Title", size=22, bold=True, before=0, after=6, align=WD_ALIGN_PARAGRAPH.LEFT)
    _paragraph_style(doc, "Subtitle", size=14, bold=False, align=WD_ALIGN_PARAGRAPH.LEFT)
    _paragraph_style(doc, "Author", size=11, align=WD_ALIGN_PARAGRAPH.LEFT, after=18)
    _paragraph_style(doc, "Date", size=11, align=WD_ALIGN_PARAGRAPH.LEFT)
    h1 = _paragraph_style(doc, "Heading 1", size=16, bold=True, before=24, after=8, keep_next=True)
    _border(_replace(h1.element.get_or_add_pPr(), "w:pBdr"), "bottom", 6)
    _paragraph_style(doc, "Heading 2", size=13, bold=True, before=18, after=6, keep_next=True)
    _paragraph_style(doc, "Heading 3", size=11, bold=True, before=12, after=4, keep_next=True)
    _paragraph_style(doc, "TOC Heading", size=16, bold=True, before=12, after=8, base="Normal")
    _paragraph_style(doc, "toc 1", size=10.5, bold=True, before=4, after=1, style_id="TOC1", base="Normal")
    _paragraph_style(doc, "toc 2", size=10.5, bold=False, before=0, after=1, style_id="TOC2", base="Normal",
                     indent=14)  # fmt: skip
    for name in ("Table Caption", "Image Caption"):
        _paragraph_style(doc, name, size=10, bold=True, before=10, after=4, align=WD_ALIGN_PARAGRAPH.LEFT,
                         keep_next=name == "Table Caption")  # fmt: skip
        doc.styles[name].font.italic = False
    _paragraph_style(doc, "Figure", keep_next=True, align=WD_ALIGN_PARAGRAPH.CENTER, before=8, after=0, base="Normal")
    _paragraph_style(doc, "Captioned Figure", keep_next=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    # cells of a table too wide for 9 pt (quarto_report.lua); no space around the lines, like «Compact»
    _paragraph_style(doc, "Table Small", size=7.5, before=0, after=0, base="Compact")
    link = doc.styles["Hyperlink"]
    link.font.color.rgb = RGBColor.from_string(LINK_COLOUR)
    link.font.size = None
    _table_style(doc)
    doc.core_properties.author = "OUS smerteregister"
    doc.core_properties.title = "Årsrapport"
    doc.core_properties.last_modified_by = ""
    doc.core_properties.revision = 1
    import datetime as dt

    doc.core_properties.created = doc.core_properties.modified = dt.datetime(2024, 1, 1)
    doc.styles["Normal"].font.size = Pt(10.5)
    buf = io.BytesIO()
    doc.save(buf)
    return _fixed_zip(buf.getvalue())


def _fixed_zip(data: bytes) -> bytes:
    """The same zip with every entry's time stamp fixed (so equal content gives equal bytes)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    from .pipeline import find_quarto

    quarto = find_quarto()
    if quarto is None:
        print("Quarto finnes ikke (verken på PATH eller i QUARTO_PATH); kjør make quarto først", file=sys.stderr)
        return 1
    target = Path(argv[0]) if argv else REFERENCE_DOCX
    target.write_bytes(build_reference_docx(pandoc_default_reference(quarto)))
    print(f"Skrev {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
