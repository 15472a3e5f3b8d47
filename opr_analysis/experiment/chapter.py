"""The annual report's experiment chapter: only for an extract that has allocations.

Rules:

- :func:`report_template` gives the notebook the report executes: the annual
  report notebook itself (the very same file, so the report is byte-identical
  to one made without this module) when the extract has no allocations;
  otherwise a copy with the chapter's cells (:data:`CHAPTER_CELLS`) inserted
  before the data-quality chapter, every other cell unchanged.
- The chapter finds each allocated experiment's spec among the YAML files
  under ``<texts_dir>/experiments/`` (by ``id``); an experiment without a spec
  is named, not analysed (its window and outcome are not known).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import UsageError
from ..safety.markup import escape
from .spec import ExperimentSpec, load_spec

#: The cells inserted into the report (fixed ids: the executed notebook must not vary between runs).
CHAPTER_CELLS = [
    (
        "opr-experiment-chapter",
        "# Forsøk med svarandel (randomisering)\n"
        "from opr_analysis.experiment.chapter import experiment_chapter\n\n"
        "display(Markdown(experiment_chapter(reg, texts_dir, as_of_date)))",
    ),
]
#: The chapter goes before the first of these headings (else at the end).
BEFORE = ("# Datakvalitet", "# Konklusjon")


def has_allocations(reg) -> bool:
    table = reg.tables.get("allocations")
    return table is not None and not table.empty


def report_template(notebook: Path, reg, folder: Path) -> Path:
    """``notebook`` itself without allocations; else a copy with the chapter, written into ``folder``."""
    import nbformat

    if not has_allocations(reg):
        return notebook
    nb = nbformat.read(notebook, as_version=4)
    at = next(
        (i for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and c.source.startswith(BEFORE)),
        len(nb.cells),
    )
    cells = []
    for cell_id, source in CHAPTER_CELLS:
        cell = nbformat.v4.new_code_cell(source)
        cell.id = cell_id
        cells.append(cell)
    nb.cells[at:at] = cells
    Path(folder).mkdir(parents=True, exist_ok=True)
    target = Path(folder) / notebook.name
    nbformat.write(nb, target)
    return target


def find_specs(texts_dir) -> dict[str, ExperimentSpec]:
    """Every valid experiment spec under ``<texts_dir>/experiments/``, by id (first path wins)."""
    specs: dict[str, ExperimentSpec] = {}
    root = Path(texts_dir) / "experiments"
    for path in sorted(root.rglob("*.yaml")) if root.is_dir() else []:
        try:
            spec = load_spec(path)
        except UsageError:
            continue
        specs.setdefault(spec.id, spec)
    return specs


def experiment_chapter(reg, texts_dir, as_of) -> str:
    """The chapter as Markdown: one section per experiment in the extract's allocations."""
    from .analyse import analyse, result_markdown

    ids = sorted(reg.allocations["experiment_id"].astype(str).unique())
    specs = find_specs(texts_dir)
    parts = [
        "# Forsøk med kort oppfølgingsskjema\n",
        "Registeret tester om flere svarer på oppfølgingen når skjemaet er kort (EQ-5D og PGIC) enn når det er "
        "hele pakken. Pasientene trekkes tilfeldig til fullt eller kort skjema (randomisering i blokker innen "
        "grupper), slik at forskjellen i svarandel kan tilskrives skjemaet og ikke årstid, personale eller "
        "purringer. Hovedanalysen regner alle pasientene i gruppen de ble trukket til (intention to treat).\n",
    ]
    for exp_id in ids:
        spec = specs.get(exp_id)
        shown = escape(exp_id)  # the id comes from the extract: quoted through the one escaping function
        if spec is None:
            parts.append(
                f"## {shown}\n\nUttrekket har randomiseringer for dette forsøket, men spesifikasjonen "
                f"({shown}.yaml) finnes ikke under {escape(Path(texts_dir).name)}/experiments/; resultatene "
                "beregnes ikke.\n"
            )
            continue
        res = analyse(reg, spec, pd.Timestamp(as_of))
        window = f"{spec.window[0]:%d.%m.%Y}–{spec.window[1]:%d.%m.%Y}"
        parts.append(f"## {shown} (forfall {window})\n\n" + result_markdown(res))
    return "\n".join(parts)
