"""The annual report's experiment chapter: only for an extract that has allocations.

Rules:

- :func:`report_template` gives the notebook the report executes: the annual
  report notebook itself (the very same file, so the report is byte-identical
  to one made without this module) when the extract has no allocations;
  otherwise a copy with the chapter's cells (:func:`chapter_cells`) inserted
  before the data-quality chapter, every other cell unchanged.
- The chapter finds each allocated experiment's spec among the YAML files
  under ``<texts_dir>/experiments/`` (by ``id``); an experiment without a spec
  is named, not analysed (its window and outcome are not known).
- Per experiment the chapter has, like every other part of the report, a
  section heading (the experiment's title, :func:`experiment_title`, not its
  file name), text, and great-tables tables with a numbered caption (``#|
  tbl-cap``), a source note and left-aligned labels: the patient flow
  (:func:`flow_cells`) and the shares answered (:func:`share_cells`). Both are
  about patients, so counts below ``min_cell`` are hidden by the report's one
  rule (:mod:`opr_analysis.report.suppression`; the flow's sums are protected),
  and a share resting on a hidden count is hidden; the text then quotes no
  share either.
- The analysis (:mod:`.analyse`) is computed once per experiment and as-of date
  (memoised on the registry) and shared by the chapter's cells.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import UsageError
from ..formatting import CI_LABEL, MISSING, fmt_int, fmt_pct, fmt_pct_interval
from ..safety.markup import escape
from .spec import ARMS, ExperimentSpec, load_spec

ARM_LABELS = {"full": "Fullt skjema", "kort": "Kort skjema"}
TOTAL = "alle"
#: The chapter goes before the first of these headings (else at the end).
BEFORE = ("# Datakvalitet", "# Konklusjon")
SOURCE = "Kilde: OUS smerteregister, randomiseringer (allocations) og oppfølgingsskjemaer."


def has_allocations(reg) -> bool:
    table = reg.tables.get("allocations")
    return table is not None and not table.empty


def experiment_ids(reg) -> list[str]:
    """The experiments in the extract's allocations, sorted."""
    return sorted(reg.allocations["experiment_id"].astype(str).unique()) if has_allocations(reg) else []


def chapter_cells(reg) -> list[tuple[str, str]]:
    """(cell id, source) of the cells inserted into the report: the chapter's opening, then per experiment its
    text, two captioned tables and its results (fixed ids: the executed notebook must not vary between runs)."""
    ids = experiment_ids(reg)
    cells = [
        (
            "opr-experiment-chapter",
            "# Forsøk med svarandel (randomisering)\n"
            "from opr_analysis.experiment import chapter as experiment_chapter\n\n"
            "display(Markdown(experiment_chapter.chapter_intro(reg, texts_dir)))",
        )
    ]
    for i, exp_id in enumerate(ids, start=1):
        which = f" ({exp_id})" if len(ids) > 1 else ""
        call = f'reg, texts_dir, as_of_date, "{exp_id}", min_cell'
        cells += [
            (f"opr-experiment-{i}-text", f"display(Markdown(experiment_chapter.section_markdown({call})))"),
            (
                f"opr-experiment-{i}-flow",
                f"#| label: tbl-forsok-{i}-flyt\n"
                f'#| tbl-cap: "Pasientflyt i forsøket{which}: randomiserte pasienter per gruppe, og hvorfor noen '
                'ikke er analysert (CONSORT)"\n'
                f"experiment_chapter.flow_table({call})",
            ),
            (
                f"opr-experiment-{i}-shares",
                f"#| label: tbl-forsok-{i}-svar\n"
                f'#| tbl-cap: "Svar innen fristen per gruppe i forsøket{which}, med 95 % konfidensintervall"\n'
                f"experiment_chapter.share_table({call})",
            ),
            (f"opr-experiment-{i}-results", f"display(Markdown(experiment_chapter.results_markdown({call})))"),
        ]
    return cells


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
    for cell_id, source in chapter_cells(reg):
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


def experiment_title(spec: ExperimentSpec) -> str:
    """The section heading: the spec's ``title`` when it has one, else what is compared and the window."""
    if spec.title:
        return escape(spec.title)  # spec text: the one escaping function
    return f"Kort eller fullt oppfølgingsskjema, forfall {spec.window[0]:%d.%m.%Y}–{spec.window[1]:%d.%m.%Y}"


def chapter_intro(reg, texts_dir) -> str:
    """The chapter's heading and opening, and a note for every experiment whose spec is missing."""
    specs = find_specs(texts_dir)
    parts = [
        "# Forsøk med kort oppfølgingsskjema\n",
        "Registeret tester om flere svarer på oppfølgingen når skjemaet er kort (EQ-5D og PGIC) enn når det er "
        "hele pakken. Pasientene trekkes tilfeldig til fullt eller kort skjema (randomisering i blokker innen "
        "grupper), slik at forskjellen i svarandel kan tilskrives skjemaet og ikke årstid, personale eller "
        "purringer. Pasienten er enheten som ble trukket, så hver pasient teller én gang, og hovedanalysen regner "
        "alle pasientene i gruppen de ble trukket til (intention to treat).\n",
    ]
    for exp_id in experiment_ids(reg):
        if exp_id not in specs:
            shown = escape(exp_id)  # the id comes from the extract: quoted through the one escaping function
            parts.append(
                f"Uttrekket har randomiseringer for forsøket {shown}, men spesifikasjonen ({shown}.yaml) finnes "
                f"ikke under {escape(Path(texts_dir).name)}/experiments/; resultatene beregnes ikke.\n"
            )
    return "\n".join(parts)


def result_of(reg, texts_dir, as_of, exp_id: str):
    """The :class:`~.analyse.ExperimentResult` of ``exp_id`` (None without a spec), computed once per registry."""
    from .analyse import analyse

    spec = find_specs(texts_dir).get(exp_id)
    if spec is None:
        return None
    key = ("experiment.analyse", exp_id, spec.sha256, pd.Timestamp(as_of).normalize())
    if hasattr(type(reg), "memo"):
        return reg.memo(key, lambda: analyse(reg, spec, pd.Timestamp(as_of)))
    return analyse(reg, spec, pd.Timestamp(as_of))


def section_markdown(reg, texts_dir, as_of, exp_id: str, min_cell: int = 5) -> str:
    """The experiment's heading, question, where recruitment stands (interim or final) and what is counted."""
    from .analyse import recruitment_text, scope_text

    res = result_of(reg, texts_dir, as_of, exp_id)
    if res is None:
        return ""
    return (
        f"## {experiment_title(res.spec)}\n\n**Spørsmål:** {escape(res.spec.question)}\n\n"
        + recruitment_text(res.recruitment, res.spec, res.as_of)
        + "\n\n"
        + scope_text(res)
        + f" @Tbl-forsok-{experiment_ids(reg).index(exp_id) + 1}-flyt viser hvor mange som er med i hvert trinn."
    )


def _flow_frame(res) -> pd.DataFrame:
    """The flow's counts with arms as rows (and their sum), plus the undisplayed complements the sums need."""
    f = res.flow.set_index("step")[list(ARMS)].T
    f.loc[TOTAL] = f.sum()
    f["unanswered"] = f["analysed"] - f["answered"]
    f["still_owed"] = f["analysed"] - f["no_longer_owed"]
    return f.astype("int64")


def flow_hidden(res, min_cell: int = 5) -> pd.DataFrame:
    """Which flow counts are hidden (arms and «alle» as rows, steps as columns).

    The sums protected: the four parts of «randomised» (erased at their own request, contract v1.2, is one),
    answered + not answered
    (an outcome) and no longer owed + still owed (a reservation or a flag set
    after randomisation: a characteristic). How many were sent, and in which
    variant, are administrative counts of questionnaires, as in the follow-up
    table, and are not tied to a protected sum.
    """
    from ..report.suppression import suppress_wide
    from .analyse import FLOW_STEPS

    return suppress_wide(
        _flow_frame(res),
        [
            ("allocated", ["erased", "not_known", "not_found", "analysed"]),
            ("analysed", ["answered", "unanswered"]),
            ("analysed", ["no_longer_owed", "still_owed"]),
        ],
        min_cell,
        extra_columns=["sent", "sent_as_allocated"],
        total_row=TOTAL,
        displayed=[s for s in FLOW_STEPS if s not in ("sent", "sent_as_allocated")],
    )


def flow_cells(res, min_cell: int = 5) -> pd.DataFrame:
    """The flow as display cells: one row per step (``step``, ``label``), a column per arm and «I alt»; counts
    below ``min_cell`` hidden with their partners (:func:`flow_hidden`)."""
    from ..report.suppression import display_counts
    from .analyse import FLOW_STEPS

    f, hidden = _flow_frame(res), flow_hidden(res, min_cell)
    out = pd.DataFrame({"step": list(FLOW_STEPS), "label": list(FLOW_STEPS.values())})
    for arm, label in [*ARM_LABELS.items(), (TOTAL, "I alt")]:
        counts = f.loc[arm, list(FLOW_STEPS)]
        out[label] = display_counts(counts, hidden.loc[arm, list(FLOW_STEPS)]).to_numpy()
    return out


def flow_table(reg, texts_dir, as_of, exp_id: str, min_cell: int = 5):
    """The great-tables table of :func:`flow_cells` (None without a spec)."""
    from ..report.gt_tables import house_table
    from ..report.suppression import suppression_note

    res = result_of(reg, texts_dir, as_of, exp_id)
    if res is None:
        return None
    days = res.spec.answered_within_days
    note = (
        f"{SOURCE} Pasienter randomisert til og med {pd.Timestamp(res.as_of):%d.%m.%Y}. Hver pasient er med i "
        "nøyaktig ett av de tre trinnene under «Randomisert». Utfallet er kjent når oppfølgingen ble sendt minst "
        f"{days} dager før kjøringsdatoen (eller, om den ikke ble sendt, forfalt så lenge før). Tankestrek: "
        "blant de analyserte." + (" " + suppression_note(min_cell) if min_cell > 1 else "")
    )
    cells = flow_cells(res, min_cell).drop(columns="step")
    return house_table(cells, note, stubhead="Trinn (pasienter)", id=f"experiment-flow-{exp_id}")


def share_cells(res, min_cell: int = 5) -> pd.DataFrame:
    """Answered within the days per arm: one row per analysis (``row``, ``label``) with, per arm, answered of n,
    the share and its interval; a share whose answered or unanswered count is below ``min_cell`` reads «–»."""
    from ..report.suppression import small_share

    rows = [("itt", "Alle analyserte (ITT)", res.itt), ("per_protocol", "Sendt som randomisert", res.per_protocol)]
    if "complete_primary_proms" in res.secondary:
        rows.append(("complete", "Komplett EQ-5D og PGIC", res.secondary["complete_primary_proms"]["shares"]))
    flow = flow_hidden(res, min_cell)
    out = []
    for key, label, shares in rows:
        s = shares.set_index("arm")
        row = {"row": key, "label": label}
        hidden = small_share(s, "events", "n", min_cell)
        if key == "itt":  # the flow's analysed and answered: hidden there, hidden here
            hidden |= flow.loc[list(ARMS), ["analysed", "answered"]].any(axis=1)
        for arm in ARMS:
            shown = not hidden[arm] and s.at[arm, "n"] > 0
            row[f"{arm}_n"] = f"{fmt_int(s.at[arm, 'events'])} av {fmt_int(s.at[arm, 'n'])}" if shown else MISSING
            row[f"{arm}_share"] = fmt_pct(s.at[arm, "share"]) if shown else MISSING
            row[f"{arm}_ci"] = fmt_pct_interval(s.at[arm, "ci_low"], s.at[arm, "ci_high"]) if shown else MISSING
        out.append(row)
    return pd.DataFrame(out)


def share_table(reg, texts_dir, as_of, exp_id: str, min_cell: int = 5):
    """The great-tables table of :func:`share_cells` (None without a spec)."""
    from ..report.gt_tables import house_table

    res = result_of(reg, texts_dir, as_of, exp_id)
    if res is None:
        return None
    days = res.spec.answered_within_days
    cells = share_cells(res, min_cell).drop(columns="row")
    labels = {}
    for arm in ARMS:
        labels |= {f"{arm}_n": "Besvart", f"{arm}_share": "Andel", f"{arm}_ci": CI_LABEL}
    note = (
        f"{SOURCE} Besvart: svar innen {days} dager etter utsending på den første skyldige oppfølgingen i vinduet; "
        "en oppfølging som ikke ble sendt, regnes som ikke besvart. Intervall: Wilson. «–»: for få til å vise andelen."
    )
    spanners = {ARM_LABELS[a]: [f"{a}_n", f"{a}_share", f"{a}_ci"] for a in ARMS}
    return house_table(cells, note, spanners=spanners, labels=labels, stubhead="Analyse", id=f"experiment-{exp_id}")


def results_markdown(reg, texts_dir, as_of, exp_id: str, min_cell: int = 5) -> str:
    """The comparison, the adjusted model, the sensitivity analyses and the conclusion, or why none is shown."""
    from ..report.suppression import small_share
    from .analyse import results_lines

    res = result_of(reg, texts_dir, as_of, exp_id)
    if res is None:
        return ""
    n = f"@Tbl-forsok-{experiment_ids(reg).index(exp_id) + 1}-svar"
    if small_share(res.itt, "events", "n", min_cell).any() or not res.itt["n"].all():
        return f"{n} viser svarene. Det er ennå for få pasienter med kjent utfall til å sammenligne gruppene."
    body = " ".join(results_lines(res))
    return f"{n} viser svarandelene. {body}\n\n**Konklusjon:** {res.conclusion}"
