"""The Quarto project at the repository root: ``quarto render`` / ``quarto preview`` make the annual report.

``_quarto.yml`` at the root lists the report's settings file
(``opr_analysis/report/quarto_report.yaml``, the one ``opr report`` uses) in
``metadata-files``, renders ``arsrapport.ipynb`` into ``_output/quarto/``
(``arsrapport.html``, ``.docx``, ``.pdf``) and runs ``tools/quarto_pre_render.py``
first, which calls :func:`pre_render`:

1. the extract is ``$OPR_EXTRACT``, or ``data/synthetic`` (written with
   ``opr synth`` when it is missing, as ``make report`` does);
2. it is validated (:func:`opr_analysis.load_extract`), the report year is
   ``$OPR_YEAR`` or the default of ``opr report``, the as-of date ``$OPR_AS_OF``
   or today;
3. ``notebooks/annual_report.ipynb`` is executed with papermill exactly as
   ``opr report`` executes it (:func:`~opr_analysis.report.pipeline.execute_report`),
   made ready for Quarto (:func:`~opr_analysis.report.quarto.prepare_for_quarto`:
   title, tables as raw HTML, alt texts) and written as ``arsrapport.ipynb`` at
   the root (git-ignored; the year is in the title), atomically and only after the
   identity-number scan (:func:`~opr_analysis.safety.privacy.scanned_file`). A file
   of that name that this step did not write is never replaced.

Quarto then renders that notebook to HTML, Word and PDF without executing it.
What ``opr report`` adds and this does not: the manifest, the Excel workbook,
the quarantine files and an output folder that appears only when complete.
Publish with ``opr report``; use the project to look at the report while
editing the notebook, the texts or the settings (``quarto preview``).
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

import nbformat

from ..errors import OprError

__all__ = ["INPUT", "pre_render", "main"]

#: The notebook Quarto renders, written by the pre-render step (relative to the project root).
INPUT = Path("arsrapport.ipynb")
WRITTEN_BY = "opr_analysis.report.quarto_project"


def _written_here(path: Path) -> bool:
    try:
        return nbformat.read(path, as_version=4).metadata.get("opr", {}).get("written_by") == WRITTEN_BY
    except Exception:  # not a notebook at all
        return False


def pre_render(root: str | os.PathLike, log=print) -> Path:
    """Execute the report notebook for the root project and write ``arsrapport.ipynb`` (module docstring)."""
    import tempfile

    from .. import cli
    from ..extract.reader import load_extract
    from ..safety.privacy import scanned_file
    from .pipeline import TEXTS, check_report_parameters, execute_report, plan_report
    from .quarto import prepare_for_quarto

    root = Path(root).resolve()
    target = root / INPUT
    if target.exists() and not _written_here(target):
        raise OprError(f"{target} finnes og er ikke skrevet av Quartos forhåndssteg; flytt den og prøv igjen")
    default = root / "data" / "synthetic"
    extract = Path(os.environ.get("OPR_EXTRACT") or default)
    if not extract.is_absolute():
        extract = root / extract
    if extract == default and not (extract / "patients.csv").is_file():
        log(f"Skriver det syntetiske registeret til {extract} (opr synth)")
        if cli.main(["synth", "--out", str(extract)]) != 0:
            raise OprError(f"opr synth kunne ikke skrive {extract}")
    as_of = dt.date.fromisoformat(os.environ["OPR_AS_OF"]) if os.environ.get("OPR_AS_OF") else dt.date.today()
    year = int(os.environ["OPR_YEAR"]) if os.environ.get("OPR_YEAR") else None
    check_report_parameters(min_cell=5, years_shown=3, texts_dir=TEXTS)  # the glossary's schema, as opr report
    reg = load_extract(extract)
    plan = plan_report(reg, extract, year=year, as_of=as_of)
    with tempfile.TemporaryDirectory(prefix="opr-quarto-") as scratch:
        executed = Path(scratch) / "annual_report.ipynb"
        execute_report(reg, plan, executed)
        nb = nbformat.read(executed, as_version=4)
    prepare_for_quarto(nb, plan.title)
    nb.metadata["opr"] = {"written_by": WRITTEN_BY, "parameters": plan.parameters}
    with scanned_file(target) as tmp:
        nbformat.write(nb, tmp)
    log(f"Kjørte rapportnotatboken for {plan.year} fra {extract} inn i {INPUT}; Quarto lager rapporten av den")
    return target


def main(argv: list[str] | None = None) -> int:
    """``python -m opr_analysis.report.quarto_project ROOT``: the pre-render step; Norwegian message, exit 1, on error."""
    argv = sys.argv[1:] if argv is None else argv
    root = Path(argv[0]) if argv else Path.cwd()
    try:
        pre_render(root)
    except OprError as exc:
        print(f"Feil: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
