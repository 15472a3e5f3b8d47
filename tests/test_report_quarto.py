"""The report as Quarto makes it: HTML, Word and PDF read back and checked as a registry would publish them.

One session fixture renders ``opr report --formats html,docx,pdf`` once, on a small synthetic
extract with two units (so the quality-indicator chapter, its table and its figures are in it),
into an output folder under a folder whose name starts with a dot (``…/.skjult/_output``). Quarto
ignores project files under such folders; that is how every setting was once lost (US Letter,
English captions, no contents, code printed). Every test reads those files. The root project
(``quarto render`` at the repository root) is rendered once more, to HTML only, from a copy.

Skipped, with the reason, where Quarto is absent (``make quarto`` installs it; ``.ci/run`` does).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from conftest import QUARTO

from opr_analysis import cli
from opr_analysis.report import pipeline

pytestmark = [pytest.mark.quarto, pytest.mark.slow, pytest.mark.xdist_group("quarto")]

AS_OF = dt.date(2025, 3, 1)
YEAR = 2024
STEM = f"arsrapport-{YEAR}"
TITLE = f"Årsrapport {YEAR} for OUS smerteregister"
NEEDS_QUARTO = "Quarto is not installed (neither QUARTO_PATH nor quarto on PATH); `make quarto` installs it"
CODE = ("Markdown(", "gt_tables.", "display(", "import ", "prose.", "indicator_report.", "#|")
A4_PT = (595.28, 841.89)


@pytest.fixture(scope="session")
def small_units_extract(tmp_path_factory):
    if QUARTO is None:
        pytest.skip(NEEDS_QUARTO)
    folder = tmp_path_factory.mktemp("quarto-extract") / "extract"
    argv = ["synth", "--out", str(folder), "--units", "2", "--scale", "0.2", "--years", "2021-2024", "--seed", "7"]
    assert cli.main(argv) == 0
    return folder


@pytest.fixture(scope="session")
def quarto_report(small_units_extract, tmp_path_factory):
    """``opr report --formats html,docx,pdf`` with Quarto, once, into ``…/.skjult/_output``."""
    out = tmp_path_factory.mktemp("quarto-report") / ".skjult" / "_output"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("QUARTO_PATH", QUARTO)
        run = pipeline.run_report(
            small_units_extract, as_of=AS_OF, formats=["html", "docx", "pdf"], out=out, log=lambda s: None
        )
    assert run.renderer == "quarto"
    return run


def _file(run, suffix: str) -> Path:
    return next(p for p in run.files if p.suffix == suffix)


@pytest.fixture(scope="session")
def pdf_pages(quarto_report):
    from pypdf import PdfReader

    reader = PdfReader(_file(quarto_report, ".pdf"))
    return reader, [page.extract_text() for page in reader.pages]


@pytest.fixture(scope="session")
def html_soup(quarto_report):
    return BeautifulSoup(_file(quarto_report, ".html").read_text(encoding="utf-8"), "html.parser")


@pytest.fixture(scope="session")
def docx_document(quarto_report):
    import docx

    return docx.Document(str(_file(quarto_report, ".docx")))


def _captioned(run) -> dict[str, int]:
    """How many tables and figures the executed notebook captions (those with an output)."""
    import nbformat

    nb = nbformat.read(run.out / "build" / "annual_report.ipynb", as_version=4)
    counts = {"tbl": 0, "fig": 0}
    for cell in nb.cells:
        m = re.search(r"^#\|\s*label:\s*(tbl|fig)-", cell.source, re.M) if cell.cell_type == "code" else None
        if m and cell.outputs:
            counts[m.group(1)] += 1
    return counts


# --- where the run renders ---------------------------------------------------------------------


def test_settings_hold_when_the_output_folder_lies_under_a_dot_folder(quarto_report, pdf_pages, html_soup):
    assert any(part.startswith(".") for part in quarto_report.out.parts)
    assert sorted(p.name for p in quarto_report.files) == sorted(
        [f"{STEM}.html", f"{STEM}.docx", f"{STEM}.pdf", f"{STEM}-tabeller.xlsx"]
    )
    reader, _ = pdf_pages
    assert [round(float(v), 1) for v in reader.pages[0].mediabox.upper_right] == [round(v, 1) for v in A4_PT]
    assert html_soup.html["lang"] == "nb"
    # the manifest records the settings and every file they name
    inputs = quarto_report.manifest["inputs_sha256"]
    assert any(k.endswith("quarto_report.yaml") for k in inputs) and any(k.endswith(".lua") for k in inputs)
    assert any(k.endswith("quarto_reference.docx") for k in inputs)
    assert not [p for p in quarto_report.out.rglob("*") if p.name in ("_quarto.yml", "settings.yml")]


# --- PDF (Typst) ---------------------------------------------------------------------------


def test_pdf_is_a4_with_contents_section_numbers_and_page_numbers(pdf_pages):
    reader, pages = pdf_pages
    assert len(pages) >= 10
    for page in reader.pages:
        assert [round(float(v), 1) for v in page.mediabox.upper_right] == [round(v, 1) for v in A4_PT]
    first = pages[0]
    assert TITLE in first.replace("\n", " ") and "Innhold" in first
    assert re.search(r"^1 Registerbeskrivelse", first, re.M) and re.search(r"^5\.1 Henvisninger vurdert", first, re.M)
    for number, text in enumerate(pages, start=1):
        assert text.strip().splitlines()[-1].strip() == str(number), f"page {number} has no page number"
    body = "\n".join(pages[1:])
    assert re.search(r"^5 Pasientdata$", body, re.M) and re.search(r"^5\.2 Svar på baselineundersøkelsen$", body, re.M)


def test_pdf_captions_are_norwegian_numbered_and_kept_with_their_table(quarto_report, pdf_pages):
    _, pages = pdf_pages
    text = "\n".join(pages)
    counts = _captioned(quarto_report)
    assert counts["tbl"] >= 15 and counts["fig"] >= 6
    for kind, word in (("tbl", "Tabell"), ("fig", "Figur")):
        numbers = [int(n) for n in re.findall(rf"^{word}\s(\d+):", text, re.M)]
        assert numbers == list(range(1, counts[kind] + 1)), word
    assert not re.search(r"\b(Table|Figure) \d", text)
    for number, page in enumerate(pages, start=1):
        lines = [line for line in page.strip().splitlines()[:-1] if line.strip()]  # without the page number
        for i, line in enumerate(lines):
            if re.match(r"Tabell\s\d+:", line):
                assert len(lines) - i > 3, f"page {number}: «{line}» is left at the foot of the page"


def test_pdf_long_table_breaks_across_pages_and_repeats_its_header(pdf_pages):
    _, pages = pdf_pages
    # the baseline profile by sex (the PROM chapter) is longer than a page
    header = [i for i, page in enumerate(pages) if re.search(r"^Kvinner Menn Alle$", page, re.M)]
    assert len(header) >= 2 and header[1] == header[0] + 1, header


def test_pdf_wide_table_does_not_overprint(pdf_pages):
    reader, pages = pdf_pages
    page = next(
        i for i, text in enumerate(pages) if re.search(r"^Tabell\s\d+:\s+Oppfølgingsskjemaer som var", text, re.M)
    )
    layout = reader.pages[page].extract_text(extraction_mode="layout")
    # «Svarandel» and «95 % KI» overprinted each other; every row's share and interval stand apart
    assert re.search(r"Svarandel\s+95\s%\sKI", layout.replace("\u00a0", " "))
    rows = [line for line in layout.splitlines() if line.strip().startswith(("RF,", "SCS,", "Alle typer"))]
    assert len(rows) >= 6
    # a row whose share is hidden (follow-ups are patient counts, issue 23) shows «–» for share and interval
    shown = [row for row in rows if "%" in row]
    assert shown  # «Alle typer» at least
    for row in shown:
        assert re.search(r"\d,\d %\s+\d+,\d[\u2060–-]+\d+,\d %", row.replace("\u00a0", " ")), row
    for row in (row for row in rows if row not in shown):
        assert re.search(r"–\s+–", row), row


def _notebook_text(run) -> str:
    """Every text the executed notebook gives the reader (Markdown cells and outputs, HTML tables)."""
    import nbformat

    nb = nbformat.read(run.out / "build" / "annual_report.ipynb", as_version=4)
    parts = [c.source for c in nb.cells if c.cell_type == "markdown"]
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts += [v for k, v in out.get("data", {}).items() if k in ("text/markdown", "text/html")]
    return "\n".join(parts)


def test_pdf_has_no_code_no_broken_words_and_embeds_open_fonts(quarto_report, pdf_pages):
    reader, pages = pdf_pages
    text = "\n".join(pages)
    assert not [c for c in CODE if c in text]
    # no word hyphenated at a line end («må-neder», «Smerte-klinikk»): a line may end at a hyphen only
    # where the word has one («t-fordeling»)
    words = _notebook_text(quarto_report)
    broken = [f"{a}-{b}" for a, b in re.findall(r"(\w+)-\n(\w+)", text) if f"{a}-{b}" not in words]
    assert not broken, broken
    assert "Smerteklinikk A" in text.replace("\n", " ")
    fonts = {}
    for page in reader.pages:
        for font in page["/Resources"].get("/Font", {}).values():
            font = font.get_object()
            descriptor = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            descriptor = descriptor["/FontDescriptor"].get_object()
            fonts[str(font["/BaseFont"])] = any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
    assert fonts and all(fonts.values()), fonts
    # the fonts Typst carries itself (SIL Open Font License / Bitstream Vera): the same on every machine
    assert all(re.search(r"\+(LibertinusSerif|NewCM|DejaVuSansMono)", name) for name in fonts), fonts


# --- HTML ----------------------------------------------------------------------------------


def test_html_is_one_self_contained_norwegian_page(quarto_report, html_soup):
    html = _file(quarto_report, ".html").read_text(encoding="utf-8")
    assert html_soup.html["lang"] == "nb" and html_soup.select_one("h1.title").get_text(strip=True) == TITLE
    assert not re.search(r"""(src|href)=["']?https?:|@import|url\(["']?https?:""", html)
    assert not re.search(r"""<script[^>]+src=["'][^"']*(require|jquery)""", html)
    assert all(img["src"].startswith("data:image/") for img in html_soup.find_all("img"))
    assert not [s for s in html_soup.find_all("script") if s.get("src") and not s["src"].startswith("data:")]
    assert not [s for s in html_soup.find_all("link", rel="stylesheet") if not s["href"].startswith("data:")]
    assert "_files/" not in html
    assert not [p for p in quarto_report.out.iterdir() if p.name.endswith("_files")]


def test_html_has_contents_captions_and_links_to_word_and_pdf(quarto_report, html_soup):
    toc = html_soup.select_one("nav#TOC")
    assert toc.select_one("#toc-title").get_text(strip=True) == "Innhold"
    entries = [" ".join(a.get_text(" ").split()) for a in toc.select("a")]
    assert "5 Pasientdata" in entries and "5.1 Henvisninger vurdert" in entries
    counts = _captioned(quarto_report)
    captions = [c.get_text(" ").strip().split(":")[0].replace("\u00a0", " ") for c in html_soup.select("figcaption")]
    assert [c for c in captions if c.startswith("Tabell")] == [f"Tabell {n}" for n in range(1, counts["tbl"] + 1)]
    assert [c for c in captions if c.startswith("Figur")] == [f"Figur {n}" for n in range(1, counts["fig"] + 1)]
    refs = [a.get_text().replace("\u00a0", " ") for a in html_soup.select("main a.quarto-xref")]
    assert "tabell 1" in refs or "Tabell 1" in refs
    links = [(a.get_text(strip=True), a["href"]) for a in html_soup.select(".quarto-alternate-formats a")]
    assert links == [("Word", f"{STEM}.docx"), ("PDF", f"{STEM}.pdf")]
    assert all((quarto_report.out / href).is_file() for _, href in links)


def test_html_has_no_code_and_wide_tables_fit_the_page_and_print(html_soup):
    assert not html_soup.select(".cell-code, pre.sourceCode, div.sourceCode")
    text = html_soup.select_one("main").get_text(" ")
    assert not [c for c in CODE if c in text]
    # a table may use the empty right margin of the page (the contents are on the left)
    tables = [d for d in html_soup.select("div[id^=tbl-]") if d.find("table")]
    assert len(tables) >= 15 and all(d.select_one(".column-page-right table") for d in tables)
    assert "papermill" not in str(html_soup)  # no execution metadata as attributes: the page is reproducible
    css = " ".join(s.get_text() for s in html_soup.find_all("style"))
    assert re.search(r"@media print \{[^@]*@page \{ size: A4", css)
    assert re.search(r"\.gt_table \{ font-size: 8pt", css) and 'div[id^="opr-"] { overflow-x: auto' in css


# --- Word ----------------------------------------------------------------------------------


def test_word_is_a4_with_page_numbers_and_a_filled_contents(quarto_report, docx_document):
    section = docx_document.sections[0]
    assert (round(section.page_width.cm, 1), round(section.page_height.cm, 1)) == (21.0, 29.7)
    footer = section.footer._element.xml
    assert "PAGE" in footer
    body = docx_document.element.body
    ns = {"w": "http://schemas.openxmlformats.org/wordprocessingml/2006/main"}
    toc = body.xpath('.//w:sdt[.//w:docPartGallery[@w:val="Table of Contents"]]')
    assert len(toc) == 1
    entries = ["".join(link.itertext()) for link in toc[0].findall(".//w:hyperlink", ns)]
    assert "Innhold" in "".join(toc[0].itertext())
    assert len(entries) >= 20 and any(e.endswith("Henvisninger vurdert") and e.startswith("5.1") for e in entries)
    anchors = {b.get(f"{{{ns['w']}}}name") for b in body.iter(f"{{{ns['w']}}}bookmarkStart")}
    assert all(link.get(f"{{{ns['w']}}}anchor") in anchors for link in toc[0].findall(".//w:hyperlink", ns))


def test_word_tables_are_real_top_level_tables_with_norwegian_captions(quarto_report, docx_document):
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    counts = _captioned(quarto_report)
    body = docx_document.element.body
    w = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    tables = docx_document.tables
    assert not [t for t in tables for row in t.rows for cell in row.cells if cell.tables], "a table inside a table"
    assert not [t for t in tables if len(t.rows) == 1 and len(t.columns) == 1], "a one-cell layout table"
    captions = [p for p in docx_document.paragraphs if p.style.name == "Table Caption"]
    assert [re.match(r"Tabell\s(\d+):", p.text).group(1) for p in captions] == [
        str(n) for n in range(1, counts["tbl"] + 1)
    ]
    assert len(tables) >= counts["tbl"]
    for p in captions:  # the caption stands right above its table, at the top level of the document
        assert p._p.getparent() is body or p._p.getparent().tag == f"{w}body"
        following = p._p.getnext()
        while following is not None and following.tag == f"{w}bookmarkEnd":
            following = following.getnext()
        assert following is not None and following.tag == f"{w}tbl", p.text
    figures = [p for p in docx_document.paragraphs if p.style.name == "Image Caption"]
    assert [p.text.split(":")[0].replace("\u00a0", " ") for p in figures] == [
        f"Figur {n}" for n in range(1, counts["fig"] + 1)
    ]
    text = "\n".join(p.text for p in docx_document.paragraphs)
    assert not re.search(r"\b(Table|Figure) \d", text) and not [c for c in CODE if c in text]
    assert not [p for p in docx_document.paragraphs if p.style.name in ("Source Code", "SourceCode")]
    # numbers stand to the right, as on the web page (great-tables' alignment classes)
    first = tables[0]
    number_cells = [c for c in first.rows[1].cells[1:] if re.fullmatch(r"[\d\u00a0 ]+", c.text)]
    assert number_cells and all(c.paragraphs[0].alignment == WD_ALIGN_PARAGRAPH.RIGHT for c in number_cells)


def test_word_styles_look_like_the_web_page(docx_document):
    styles = docx_document.styles
    assert styles["Normal"].font.name == "Arial" and styles["Heading 1"].font.bold
    assert styles["Table Caption"].paragraph_format.keep_with_next and styles["Figure"].paragraph_format.keep_with_next
    assert styles["Table Caption"].font.bold


def test_reference_document_is_what_its_script_makes():
    from opr_analysis.report.reference_docx import REFERENCE_DOCX, build_reference_docx, pandoc_default_reference

    if QUARTO is None:
        pytest.skip(NEEDS_QUARTO)  # pandoc's own reference document comes with Quarto
    made = build_reference_docx(pandoc_default_reference(QUARTO))
    with zipfile.ZipFile(REFERENCE_DOCX) as committed, zipfile.ZipFile(__import__("io").BytesIO(made)) as fresh:
        assert committed.namelist() == fresh.namelist()
        changed = [n for n in committed.namelist() if committed.read(n) != fresh.read(n)]
    assert changed == [], "run `make reference-docx` and commit opr_analysis/report/quarto_reference.docx"
    assert REFERENCE_DOCX.read_bytes() == made


# --- the Quarto project at the repository root ---------------------------------------------


@pytest.fixture(scope="session")
def root_project_render(tmp_path_factory):
    """`quarto render --to html` in a copy of the root project, on a tiny extract without answers."""
    if QUARTO is None:
        pytest.skip(NEEDS_QUARTO)
    base = tmp_path_factory.mktemp("root-project")
    extract = base / "extract"
    assert cli.main(["synth", "--out", str(extract), "--scale", "0.1", "--years", "2022-2024", "--no-answers"]) == 0
    project = base / "project"
    (project / "tools").mkdir(parents=True)
    shutil.copy(pipeline.ROOT / "_quarto.yml", project)
    shutil.copy(pipeline.ROOT / "tools" / "quarto_pre_render.py", project / "tools")
    for name in ("opr_analysis", "notebooks", "reports"):
        (project / name).symlink_to(pipeline.ROOT / name, target_is_directory=True)
    env = {
        **os.environ,
        "QUARTO_PATH": QUARTO,
        "QUARTO_PYTHON": sys.executable,  # Quarto runs the pre-render step with this Python
        "OPR_EXTRACT": str(extract),
        "OPR_AS_OF": AS_OF.isoformat(),
    }
    done = subprocess.run([QUARTO, "render", "--to", "html"], cwd=project, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    return project, done


def test_quarto_render_at_the_root_makes_the_report_with_the_same_settings(root_project_render):
    import nbformat

    project, done = root_project_render
    page = project / "_output" / "quarto" / "arsrapport.html"
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    assert soup.html["lang"] == "nb" and soup.select_one("h1.title").get_text(strip=True) == TITLE
    assert soup.select_one("nav#TOC #toc-title").get_text(strip=True) == "Innhold"
    assert any(c.get_text(" ").strip().startswith("Tabell\u00a01:") for c in soup.select("figcaption"))
    # the project's own formats, labelled as opr report labels them (a full `quarto render` makes all three)
    links = [(a.get_text(strip=True), a["href"]) for a in soup.select(".quarto-alternate-formats a")]
    assert links == [("Word", "arsrapport.docx"), ("PDF", "arsrapport.pdf")]
    assert all(img["src"].startswith("data:image/") for img in soup.find_all("img"))
    nb = nbformat.read(project / "arsrapport.ipynb", as_version=4)
    assert nb.metadata["opr"]["written_by"] == "opr_analysis.report.quarto_project"
    assert nb.metadata["opr"]["parameters"]["report_year"] == YEAR
    assert "Kjørte rapportnotatboken for 2024" in done.stdout + done.stderr
    assert (
        not (pipeline.ROOT / "arsrapport.ipynb").exists()
        or (pipeline.ROOT / "arsrapport.ipynb").stat().st_mtime < (project / "arsrapport.ipynb").stat().st_mtime
    )
