"""Rendering the executed report notebook with Quarto (HTML, DOCX, PDF via Typst); Quarto never executes.

Rules:

- The project file is ``quarto_project.yaml`` beside this module, copied as
  ``_quarto.yml`` into a temporary project with the executed notebook named
  ``<stem>.ipynb`` (``arsrapport-2024.ipynb``), so the outputs and the HTML
  page's «Andre formater» links carry the published names. ``format-links``
  lists only the formats this run makes (none when it makes HTML alone).
- :func:`prepare_for_quarto` turns each ``text/html`` output (the
  great-tables tables) into a ``text/markdown`` output holding the same HTML
  as a raw ``{=html}`` block. Quarto treats any ``text/html`` or
  ``application/javascript`` output as a JavaScript widget and then adds
  require.js and jQuery from a CDN; a raw HTML block gives the same table
  (Quarto still converts it for Typst and Word) and nothing remote.
- Each figure's alt text (display metadata, :mod:`.display`) becomes the cell's
  ``#| fig-alt``.
- One ``quarto render --to FORMAT --no-execute`` per format; the title is
  given with ``-M title:…``.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from ..imports import without

with without("rfc3987_syntax"):  # 1.4 s of grammars for a format nbformat never checks
    import nbformat
import yaml

from ..errors import OprError

__all__ = [
    "QUARTO_CONFIG",
    "QUARTO_TO",
    "REMOTE_TRIGGERS",
    "prepare_for_quarto",
    "project_config",
    "quarto_version",
    "render_quarto",
]

QUARTO_CONFIG = Path(__file__).with_name("quarto_project.yaml")
QUARTO_TO = {"html": "html", "docx": "docx", "pdf": "typst"}
EXTENSION = {"html": ".html", "docx": ".docx", "pdf": ".pdf"}
# Output types that make Quarto add require.js and jQuery from a CDN (quarto-cli src/core/jupyter/widgets.ts).
REMOTE_TRIGGERS = ("text/html", "application/javascript", "application/vnd.jupyter.widget-view+json")


def project_config(formats: Sequence[str]) -> dict:
    """The project's configuration for a run that makes ``formats``."""
    config = yaml.safe_load(QUARTO_CONFIG.read_text(encoding="utf-8"))
    others = [QUARTO_TO[f] for f in formats if f != "html"]
    config["format"]["html"]["format-links"] = others or False
    return config


def prepare_for_quarto(nb) -> None:
    """Make an executed notebook safe for Quarto's HTML (see module docstring); in place."""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        alts = []
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if "text/html" in data and out.get("output_type") in ("display_data", "execute_result"):
                html = data.pop("text/html")
                html = html if isinstance(html, str) else "".join(html)
                data.pop("text/plain", None)
                data["text/markdown"] = f"```{{=html}}\n{html.strip()}\n```\n"
            for mime in REMOTE_TRIGGERS[1:]:
                data.pop(mime, None)
            alt = out.get("metadata", {}).get("image/png", {}).get("alt")
            if alt:
                alts.append(alt)
        if alts and "#| fig-alt:" not in cell.source and "#| label: fig-" in cell.source:
            escaped = alts[0].replace('"', "'")
            cell.source = f'#| fig-alt: "{escaped}"\n' + cell.source


def quarto_version(quarto: str) -> str:
    return subprocess.run([quarto, "--version"], capture_output=True, text=True, check=True, timeout=60).stdout.strip()


def render_quarto(quarto: str, executed: Path, work: Path, formats: Sequence[str], title: str, stem: str) -> list[Path]:
    """Render ``executed`` into ``work/<stem>.<ext>`` for each format; no execution, no ``-P``."""
    project = work / "quarto"
    project.mkdir(parents=True)
    (project / "_quarto.yml").write_text(
        yaml.safe_dump(project_config(formats), allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    nb = nbformat.read(executed, as_version=4)
    prepare_for_quarto(nb)
    source = project / f"{stem}.ipynb"
    nbformat.write(nb, source)
    produced = []
    for fmt in formats:
        cmd = [quarto, "render", source.name, "--to", QUARTO_TO[fmt], "--no-execute", "-M", f"title:{title}"]
        done = subprocess.run(cmd, cwd=project, capture_output=True, text=True)
        if done.returncode != 0:
            raise OprError(f"quarto render --to {QUARTO_TO[fmt]} feilet:\n{done.stderr.strip()[-2000:]}")
        found = sorted(project.rglob(f"{stem}{EXTENSION[fmt]}"))
        if not found:
            raise OprError(f"quarto laget ingen {EXTENSION[fmt]}-fil")
        target = work / f"{stem}{EXTENSION[fmt]}"
        shutil.move(found[0], target)
        produced.append(target)
    shutil.rmtree(project)
    return produced
