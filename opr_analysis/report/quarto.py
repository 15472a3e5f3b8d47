"""Rendering the executed report notebook with Quarto (HTML, DOCX, PDF via Typst); Quarto never executes.

Rules:

- The settings are ``quarto_report.yaml`` beside this module, the one file that
  the Quarto project at the repository root also reads (its ``_quarto.yml``
  lists it in ``metadata-files``). ``opr report`` gives them to Quarto with
  ``--metadata-file`` (file paths in them made absolute, :func:`run_settings`),
  never as a ``_quarto.yml`` beside the notebook: Quarto ignores project files
  under a folder whose name starts with a dot or an underscore, and the run
  renders inside its hidden temporary folder (``.<out>.opr-tmp-…``), so a
  project file there would silently be dropped with every setting in it.
- One ``quarto render NAME.ipynb --to html,docx,typst --no-execute`` makes
  every format of a run, so the HTML page's «Andre formater» links («Word»,
  «PDF») point at exactly the files this run wrote. The notebook is named
  ``<stem>.ipynb`` (``arsrapport-2024.ipynb``) so the outputs carry that name.
- :func:`prepare_for_quarto` makes an executed notebook ready for Quarto, in
  place (the root project's pre-render step uses it too):

  - a front-matter raw cell with the title (escaped: it may hold a unit's name),
    so Quarto does not take the first heading («Ordliste») as the title;
  - each ``text/html`` output (the great-tables tables) becomes a
    ``text/markdown`` output holding the same HTML as a raw ``{=html}`` block:
    Quarto treats any ``text/html`` or ``application/javascript`` output as a
    JavaScript widget and then adds require.js and jQuery from a CDN; a raw HTML
    block gives the same table (Quarto still converts it for Typst and Word) and
    nothing remote. The tables' own font list is dropped (they take the
    document's font; in the PDF a font such as Arial would otherwise be
    embedded where it is installed);
  - a captioned table's cell gets ``#| column: page-right``, so in HTML a wide
    table may use the empty right margin (the contents are on the left). Word
    and Typst have no margin column and ignore it;
  - each figure's alt text (display metadata, :mod:`.display`) becomes the
    cell's ``#| fig-alt``;
  - cell metadata other than tags is dropped (Quarto writes it into the HTML
    as attributes: papermill's execution times would make every page differ).
"""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from ..imports import NBFORMAT_UNUSED, without

with without(*NBFORMAT_UNUSED):  # 1.5 s of format checkers (grammars) for formats nbformat never checks
    import nbformat
import yaml

from ..errors import OprError
from ..safety.markup import escape
from .typography import tie_title

__all__ = [
    "PACKAGE_PARENT",
    "QUARTO_SETTINGS",
    "QUARTO_TO",
    "REMOTE_TRIGGERS",
    "settings_files",
    "prepare_for_quarto",
    "quarto_inputs",
    "quarto_version",
    "render_quarto",
    "report_settings",
    "run_settings",
]

QUARTO_SETTINGS = Path(__file__).with_name("quarto_report.yaml")
#: The folder that holds ``opr_analysis/``: file paths in the settings are relative to it.
PACKAGE_PARENT = Path(__file__).resolve().parents[2]
QUARTO_TO = {"html": "html", "docx": "docx", "pdf": "typst"}
EXTENSION = {"html": ".html", "docx": ".docx", "pdf": ".pdf"}
# Output types that make Quarto add require.js and jQuery from a CDN (quarto-cli src/core/jupyter/widgets.ts).
REMOTE_TRIGGERS = ("text/html", "application/javascript", "application/vnd.jupyter.widget-view+json")
_FONT_FAMILY = re.compile(r"^[ \t]*font-family:[^;{}\n]*;[ \t]*\n?", re.M)
_CAPTIONED_TABLE = re.compile(r"^#\|\s*label:\s*tbl-", re.M)


def report_settings() -> dict:
    """The report's Quarto settings as written in ``quarto_report.yaml``."""
    return yaml.safe_load(QUARTO_SETTINGS.read_text(encoding="utf-8"))


def settings_files(settings: dict) -> list[tuple[dict, str]]:
    """(holder, key) of every setting that names a file."""
    found = [(f, "path") for f in settings.get("filters", []) if isinstance(f, dict) and "path" in f]
    docx = settings.get("format", {}).get("docx", {})
    if "reference-doc" in docx:
        found.append((docx, "reference-doc"))
    return found


def run_settings(settings: dict | None = None, base: Path = PACKAGE_PARENT) -> dict:
    """The settings for ``quarto render --metadata-file``: every file path made absolute (against ``base``)."""
    settings = copy.deepcopy(settings if settings is not None else report_settings())
    for holder, key in settings_files(settings):
        path = (base / holder[key]).resolve()
        if not path.is_file():
            raise OprError(f"fant ikke {holder[key]} som Quarto-innstillingene ({QUARTO_SETTINGS.name}) viser til")
        holder[key] = str(path)
    return settings


def quarto_inputs() -> list[Path]:
    """The settings file and every file it names (the manifest records their checksums)."""
    return [QUARTO_SETTINGS, *(Path(holder[key]) for holder, key in settings_files(run_settings()))]


def _front_matter(title: str) -> nbformat.NotebookNode:
    # Quarto reads the title as Markdown and it may hold a unit's name from the extract: escaped by the
    # one escaping function, which also turns no-break spaces into spaces, so the short last word is tied again.
    text = tie_title(escape(title))
    cell = nbformat.v4.new_raw_cell("---\n" + yaml.safe_dump({"title": text}, allow_unicode=True) + "---\n")
    cell.metadata["opr"] = "front-matter"
    return cell


def prepare_for_quarto(nb, title: str | None = None) -> None:
    """Make an executed notebook ready for Quarto (see module docstring); in place."""
    if title is not None:
        nb.cells = [c for c in nb.cells if c.get("metadata", {}).get("opr") != "front-matter"]
        nb.cells.insert(0, _front_matter(title))
    for cell in nb.cells:
        cell.metadata = {k: v for k, v in cell.get("metadata", {}).items() if k in ("tags", "opr")}
        if cell.cell_type != "code":
            continue
        alts = []
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if "text/html" in data and out.get("output_type") in ("display_data", "execute_result"):
                html = data.pop("text/html")
                html = html if isinstance(html, str) else "".join(html)
                data.pop("text/plain", None)
                data["text/markdown"] = f"```{{=html}}\n{_FONT_FAMILY.sub('', html.strip())}\n```\n"
            for mime in REMOTE_TRIGGERS[1:]:
                data.pop(mime, None)
            alt = out.get("metadata", {}).get("image/png", {}).get("alt")
            if alt:
                alts.append(alt)
        if alts and "#| fig-alt:" not in cell.source and "#| label: fig-" in cell.source:
            escaped = alts[0].replace('"', "'")
            cell.source = f'#| fig-alt: "{escaped}"\n' + cell.source
        if _CAPTIONED_TABLE.search(cell.source) and "#| column:" not in cell.source:
            cell.source = "#| column: page-right\n" + cell.source


def quarto_version(quarto: str) -> str:
    return subprocess.run([quarto, "--version"], capture_output=True, text=True, check=True, timeout=60).stdout.strip()


def render_quarto(quarto: str, executed: Path, work: Path, formats: Sequence[str], title: str, stem: str) -> list[Path]:
    """Render ``executed`` into ``work/<stem>.<ext>`` for each of ``formats`` in one Quarto run (no execution)."""
    folder = work / "quarto"
    folder.mkdir(parents=True)
    settings = folder / "settings.yml"
    settings.write_text(yaml.safe_dump(run_settings(), allow_unicode=True, sort_keys=False), encoding="utf-8")
    nb = nbformat.read(executed, as_version=4)
    prepare_for_quarto(nb, title)
    source = folder / f"{stem}.ipynb"
    nbformat.write(nb, source)
    to = ",".join(QUARTO_TO[f] for f in formats)
    cmd = [quarto, "render", source.name, "--to", to, "--no-execute", "--metadata-file", settings.name]
    done = subprocess.run(cmd, cwd=folder, capture_output=True, text=True)
    if done.returncode != 0:
        raise OprError(f"quarto render --to {to} feilet:\n{done.stderr.strip()[-2000:]}")
    produced = []
    for fmt in formats:
        made = folder / f"{stem}{EXTENSION[fmt]}"
        if not made.is_file():
            raise OprError(f"quarto laget ingen {EXTENSION[fmt]}-fil")
        target = work / made.name
        shutil.move(made, target)
        produced.append(target)
    shutil.rmtree(folder)
    return produced
