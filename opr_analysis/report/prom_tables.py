"""The PROM chapter's tables (great-tables), with small-cell suppression.

Same two-function pattern as :mod:`.gt_tables`: ``<name>_cells`` gives the
displayed text cells (tests compare these), ``<name>_table`` wraps them in a
``GT``. Every count is about patients and goes through :mod:`.suppression`.

Suppression rules
-----------------
- **Baseline profile** («Table 1», :func:`baseline_profile_cells`): per
  categorical variable, the level counts of a column add up to the variable's
  n (published implicitly: count / share = n), and each level's Kvinner + Menn
  (+ unknown sex) add up to Alle. Both sums form groups for
  :func:`~.suppression.suppress_wide` (the n row is the ``total_row``), so a
  hidden count can be recovered neither down a column nor across a row. A
  hidden count hides its share; a hidden n hides every share of the variable
  in that column. A column with fewer than ``min_cell`` responses shows only
  «×» for the responses and «–» elsewhere. A mean/median is hidden where
  fewer than ``min_cell`` answered the variable.
- **Improvement** (:func:`improvement_cells`): n = improved + not improved
  (not improved is never displayed, but protected when small); hidden counts
  and the audit as in :mod:`.suppression`; the share and interval are hidden
  with a hidden n or improved.
- **Change scores** (:func:`change_summary_cells`): rows with n below
  ``min_cell`` show «×» and no means.
- **Model** (:func:`nonresponse_model_cells`): not a count table; shown only
  when :func:`model_is_reportable` (enough answered *and* unanswered
  follow-ups per term).

>>> import pandas as pd
>>> r = pd.DataFrame({"treatment": ["rf"], "kind": ["rf_12m"], "indicator": ["nrs_improved_30"], "n": [20],
...                   "improved": [4], "share": [0.2], "share_ci_low": [0.08], "share_ci_high": [0.42]})
>>> improvement_cells(r).loc[0, ["n", "improved", "share"]].tolist()
['20', '×', '–']
"""

from __future__ import annotations

import pandas as pd
from great_tables import GT

from ..extract import codebook
from ..formatting import MISSING, fmt_int, fmt_interval, fmt_num, fmt_p, fmt_pct
from ..stats.proms import INDICATORS, PROFILE_CATEGORICAL, PROFILE_CONTINUOUS
from .gt_tables import GROUP, SOURCE_REGISTRY, STUB, ci_cells, house_table
from .suppression import (
    DEFAULT_MIN_CELL,
    display_counts,
    display_hidden,
    suppress_wide,
    suppressed_label,
    suppression_note,
)

__all__ = [
    "PROFILE_SUMMARY",
    "SEX_COLUMNS",
    "CHANGE_TABLE_SCORES",
    "N_LEVEL",
    "profile_counts",
    "baseline_profile_cells",
    "baseline_profile_table",
    "improvement_cells",
    "improvement_hidden",
    "improvement_table",
    "change_summary_cells",
    "change_summary_table",
    "model_is_reportable",
    "nonresponse_model_cells",
    "nonresponse_model_table",
]

#: Displayed columns of the baseline profile: sex code in ``baseline_profile`` -> heading.
SEX_COLUMNS = {"K": "Kvinner", "M": "Menn", "alle": "Alle"}

#: How each continuous variable is summarised: (statistic, decimals). «mean» shows
#: ``mean (sd)``; «median» shows ``median (q1–q3)``, used for scales that are skewed or
#: bounded with many at one end (EQ-5D index, PCS, ODI), where a mean misleads.
PROFILE_SUMMARY = {
    "age": ("mean", 1),
    "nrs_avg": ("mean", 1),
    "nrs_worst": ("mean", 1),
    "bpi_interference": ("mean", 1),
    "eq5d_index": ("median", 2),
    "eq5d_vas": ("mean", 1),
    "hscl10_mean": ("mean", 2),
    "pcs_total": ("median", 0),
    "isi_total": ("mean", 1),
    "odi_percent": ("median", 1),
}
SUMMARY_WORDS = {"mean": "gjennomsnitt (SD)", "median": "median (kvartiler)"}
#: Categorical variables left out of the by-sex table (the columns already are sex).
PROFILE_SKIP = ("sex",)

#: Scores of the change table -> (label, decimals).
CHANGE_TABLE_SCORES = {
    "nrs_avg": ("Gjennomsnittlig smerte (NRS 0–10)", 1),
    "bpi_interference": ("Smertens påvirkning (BPI 0–10)", 1),
    "eq5d_index": ("EQ-5D-5L indeks", 2),
    "odi_percent": ("Oswestry funksjonsindeks (ODI, %)", 1),
}

RESPONSES = "responses"
#: The level of the row holding each column's n (those who answered the variable) in a categorical variable's
#: wide frame, and in the hidden cells of :func:`baseline_profile_cells`.
N_LEVEL = "__n__"


def _kind_labels() -> dict[str, str]:
    return codebook.load().column("followups", "kind").codes


# --- Baseline profile («Table 1») ------------------------------------------------------------


def _summary(row: pd.Series, var: str) -> str:
    stat, dec = PROFILE_SUMMARY.get(var, ("mean", 1))
    if stat == "median":
        return f"{fmt_num(row['median'], dec)} ({fmt_interval(row['q1'], row['q3'], dec)})"
    return f"{fmt_num(row['mean'], dec)} ({fmt_num(row['sd'], dec)})"


def profile_counts(profile: pd.DataFrame, year) -> pd.DataFrame:
    """The counts of the baseline profile table of ``year`` as one tidy frame: ``variable``, ``level`` and a
    count per column of :data:`SEX_COLUMNS` (0 where a sex has none).

    ``profile``: as for :func:`baseline_profile_cells`. Rows: the responses (``variable`` «responses», level
    ``""``), then each level of each categorical variable the table shows. A sex outside the columns
    (unknown) is in «alle» only: ``alle − K − M`` is its count, never shown. Empty when ``year`` has no
    responses. The multi-unit disclosure (:func:`~opr_analysis.report.unit_disclosure.profile_disclosure`)
    suppresses these counts of every report together.
    """
    p = profile[profile["year"].astype(str) == str(year)]
    columns = ["variable", "level", *SEX_COLUMNS]
    if p.empty:
        return pd.DataFrame(columns=columns)
    p = p.assign(sex=p["sex"].astype(str), level=p["level"].astype(object).where(p["level"].notna(), ""))
    resp = p[p["variable"] == RESPONSES].set_index("sex")["n"]
    rows = [{"variable": RESPONSES, "level": "", **{c: resp.get(c, 0) for c in SEX_COLUMNS}}]
    for var in PROFILE_CATEGORICAL:
        v = p[p["variable"] == var]
        if var in PROFILE_SKIP or v.empty:
            continue
        count = v.pivot_table(index="level", columns="sex", values="count", aggfunc="sum", observed=True)
        count = count.reindex(index=list(dict.fromkeys(v["level"].astype(str))), columns=list(SEX_COLUMNS))
        rows += [{"variable": var, "level": lev, **r} for lev, r in count.fillna(0).iterrows()]
    out = pd.DataFrame(rows, columns=columns)
    out[list(SEX_COLUMNS)] = out[list(SEX_COLUMNS)].fillna(0).astype("int64")
    return out


def baseline_profile_cells(
    profile: pd.DataFrame, year, min_cell: int = DEFAULT_MIN_CELL, hidden: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Baseline responses submitted in ``year`` by sex: columns K, M, alle (Kvinner, Menn, Alle).

    ``profile``: :func:`~opr_analysis.stats.proms.baseline_profile` with ``by=("year", "sex")``
    and margins. Rows: «Antall besvarelser»; each continuous variable as
    ``mean (sd)`` or ``median (q1–q3)`` (:data:`PROFILE_SUMMARY`); each level of
    each categorical variable as ``count (share %)``. Key columns ``variable``
    and ``level`` identify the rows; ``group`` is the row group. Suppression:
    module docstring; ``hidden`` (a boolean frame indexed by ``(variable, level)``
    with columns K, M, alle, a variable's n at level :data:`N_LEVEL`) replaces the
    table's own rule when every report of a multi-unit extract is suppressed together
    (:func:`~opr_analysis.report.unit_disclosure.profile_disclosure`; a cell it does not
    name is hidden). Empty when ``year`` has no responses.
    """
    p = profile[profile["year"].astype(str) == str(year)].copy()
    cols = list(SEX_COLUMNS)
    out_cols = ["variable", "level", GROUP, STUB, *cols]
    if p.empty:
        return pd.DataFrame(columns=out_cols)
    p["sex"] = p["sex"].astype(str)
    extra = sorted(set(p["sex"]) - set(cols))  # e.g. "ukjent": part of the sums, never shown
    rows: list[dict] = []

    def given(var: str, levels: list[str]) -> pd.DataFrame:
        keys = pd.MultiIndex.from_product([[var], levels])
        return hidden.reindex(index=keys, columns=cols).fillna(True).astype(bool).droplevel(0)

    resp = p[p["variable"] == RESPONSES].set_index("sex")["n"].reindex([*cols, *extra]).fillna(0).astype(int)
    if hidden is None:
        wide = resp.to_frame().T
        off = suppress_wide(wide, [("alle", [c for c in [*cols, *extra] if c != "alle"])], min_cell, displayed=cols)
    else:
        off = given(RESPONSES, [""])
    shown = display_counts(resp.reindex(cols), off.iloc[0].reindex(cols), min_cell)
    tiny = {c: bool(0 < resp[c] < min_cell) for c in cols}
    rows.append(
        {"variable": RESPONSES, "level": "", GROUP: "Besvarelser", STUB: "Antall besvarelser", **shown.to_dict()}
    )

    for var, label in PROFILE_CONTINUOUS.items():
        v = p[p["variable"] == var].set_index("sex")
        if v.empty:
            continue
        stat = PROFILE_SUMMARY.get(var, ("mean", 1))[0]
        row = {"variable": var, "level": "", GROUP: "Alder og skårer", STUB: f"{label}, {SUMMARY_WORDS[stat]}"}
        for c in cols:
            ok = c in v.index and not tiny[c] and int(v.loc[c, "n"]) >= min_cell
            row[c] = _summary(v.loc[c], var) if ok else MISSING
        rows.append(row)

    for var, label in PROFILE_CATEGORICAL.items():
        v = p[p["variable"] == var]
        if var in PROFILE_SKIP or v.empty:
            continue
        levels = list(dict.fromkeys(v["level"].astype(str)))
        count = v.pivot_table(index="level", columns="sex", values="count", aggfunc="sum", observed=True)
        count = count.reindex(index=levels, columns=[*cols, *extra]).fillna(0).astype(int)
        n = v.drop_duplicates("sex").set_index("sex")["n"].reindex([*cols, *extra]).fillna(0).astype(int)
        share = v.pivot_table(
            index="level", columns="sex", values="share", aggfunc="first", observed=True, dropna=False
        ).reindex(index=levels, columns=cols)
        if hidden is None:
            frame = pd.concat([count, n.to_frame(N_LEVEL).T])
            mask = suppress_wide(
                frame,
                [("alle", [c for c in [*cols, *extra] if c != "alle"])],
                min_cell,
                total_row=N_LEVEL,
                displayed=cols,
            )
        else:
            mask = given(var, [*levels, N_LEVEL])
        level_labels = v.drop_duplicates("level").set_index(v.drop_duplicates("level")["level"].astype(str))
        for lev in levels:
            row = {"variable": var, "level": lev, GROUP: label, STUB: str(level_labels.loc[lev, "level_label"])}
            for c in cols:
                if tiny[c]:
                    row[c] = MISSING
                    continue
                k = display_counts(pd.Series([count.loc[lev, c]]), pd.Series([mask.loc[lev, c]]), min_cell).iloc[0]
                share_hidden = bool(mask.loc[lev, c] or mask.loc[N_LEVEL, c])
                s = MISSING if share_hidden else fmt_pct(share.loc[lev, c])
                row[c] = k if mask.loc[lev, c] else f"{k} ({s})"
            rows.append(row)
    return pd.DataFrame(rows, columns=out_cols)


def baseline_profile_table(
    profile: pd.DataFrame, year, min_cell: int = DEFAULT_MIN_CELL, hidden: pd.DataFrame | None = None
) -> GT:
    cells = baseline_profile_cells(profile, year, min_cell, hidden).drop(columns=["variable", "level"])
    note = (
        f"{SOURCE_REGISTRY} Baselineskjemaer sendt inn i {year}; en pasient som svarte flere ganger, telles "
        "hver gang. Gjennomsnitt, median og andeler er regnet av dem som svarte på spørsmålet. "
        "Kvartiler: 1. og 3. kvartil. "
        + suppression_note(min_cell)
        + f" En kolonne med færre enn {min_cell} besvarelser viser bare antallet."
    )
    return house_table(cells, note, labels=SEX_COLUMNS, id="prom_baseline_profile")


# --- Improvement at follow-up ----------------------------------------------------------------


def improvement_cells(
    rates: pd.DataFrame, min_cell: int = DEFAULT_MIN_CELL, hidden: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Share improved per indicator and follow-up kind: n, improved, share, 95 % CI.

    ``rates``: :func:`~opr_analysis.stats.proms.improvement_rates`. One row per
    indicator × kind in the frame's order, grouped by indicator; key columns
    ``indicator`` and ``kind``. Suppression: module docstring; ``hidden`` (a boolean
    frame indexed by ``(indicator, kind)`` with columns ``n`` and ``improved``) replaces
    it when every report of a multi-unit extract is suppressed together
    (:func:`~opr_analysis.report.unit_disclosure.improvement_disclosure`).
    """
    f = rates.reset_index(drop=True).copy()
    f["not_improved"] = f["n"] - f["improved"]
    hidden = improvement_hidden(f, min_cell, hidden)
    share_hidden = hidden["share"]
    labels = _kind_labels()
    return pd.DataFrame(
        {
            "indicator": f["indicator"].astype(str),
            "kind": f["kind"].astype(str),
            GROUP: f["indicator"].astype(str).map(INDICATORS),
            STUB: f["kind"].astype(str).map(lambda k: labels.get(k, k)),
            "n": display_counts(f["n"], hidden["n"], min_cell),
            "improved": display_counts(f["improved"], hidden["improved"], min_cell),
            "share": display_hidden(f["share"].map(fmt_pct), share_hidden),
            "share_ci": display_hidden(ci_cells(f, "share"), share_hidden),
        }
    )


def improvement_hidden(rates: pd.DataFrame, min_cell: int = DEFAULT_MIN_CELL, hidden: pd.DataFrame | None = None):
    """Which ``n``, ``improved`` and ``share`` of ``rates`` (:func:`~opr_analysis.stats.proms.improvement_rates`,
    in its row order) the improvement table, its sentence and figure hide: the table's own rule, or ``hidden``
    (see :func:`improvement_cells`). A share is hidden with its ``n`` or ``improved`` (the answers not
    improved follow from them)."""
    if hidden is not None:
        keys = pd.MultiIndex.from_arrays([rates["indicator"].astype(str), rates["kind"].astype(str)])
        out = hidden[["n", "improved"]].reindex(keys).fillna(False).astype(bool).reset_index(drop=True)
        return out.assign(share=out["n"] | out["improved"])
    f = rates.reset_index(drop=True).assign(not_improved=lambda d: d["n"] - d["improved"])
    own = suppress_wide(f, [("n", ["improved", "not_improved"])], min_cell, displayed=["n", "improved"])
    return pd.DataFrame(
        {"n": own["n"], "improved": own["improved"], "share": own["n"] | own["improved"] | own["not_improved"]}
    )


def window_note(window: tuple[int, int] | None) -> str:
    """«Oppfølginger med forfallsår 2023–2025 …»: the outcome window as a table note sentence.

    >>> window_note((2023, 2025))
    'Oppfølginger med forfallsår 2023–2025, med svar til og med skjæringsdatoen; hvert svar telles, og én pasient kan ha svar etter flere behandlinger.'
    """
    years = "alle år" if window is None else f"forfallsår {window[0]}–{window[1]}"
    if window is not None and window[0] == window[1]:
        years = f"forfallsår {window[0]}"
    return (
        f"Oppfølginger med {years}, med svar til og med skjæringsdatoen; hvert svar telles, og én pasient kan "
        "ha svar etter flere behandlinger."
    )


def improvement_table(
    rates: pd.DataFrame,
    min_cell: int = DEFAULT_MIN_CELL,
    window: tuple[int, int] | None = None,
    hidden: pd.DataFrame | None = None,
) -> GT:
    cells = improvement_cells(rates, min_cell, hidden).drop(columns=["indicator", "kind"])
    labels = {"n": "Svar", "improved": "Bedret", "share": "Andel bedret", "share_ci": "95 % KI"}
    note = (
        f"{SOURCE_REGISTRY} {window_note(window)} Første svar på hver oppfølging. NRS: minst 30 % lavere gjennomsnittlig smerte enn "
        "ved baseline i samme behandlingsforløp (bare svar med baseline over 0). PGIC: «mye bedre» eller "
        "«svært mye bedre», alle svar. " + suppression_note(min_cell) + " Andelen skjules når antallet bedret "
        "eller ikke bedret er skjult."
    )
    return house_table(cells, note, labels=labels, stubhead="Oppfølging", id="prom_improvement")


# --- Change scores ---------------------------------------------------------------------------


def change_summary_cells(
    summary: pd.DataFrame, min_cell: int = DEFAULT_MIN_CELL, hidden: pd.Series | None = None
) -> pd.DataFrame:
    """Mean baseline, follow-up and change (95 % CI) for the scores of :data:`CHANGE_TABLE_SCORES`.

    ``summary``: :func:`~opr_analysis.stats.proms.change_summary`. Grouped by score
    (in :data:`CHANGE_TABLE_SCORES` order), a row per kind; key columns
    ``score`` and ``kind``. A row with n between 1 and ``min_cell − 1`` shows
    «×» and no means. ``hidden`` (a boolean series indexed by ``(score, kind)``) replaces
    that rule when every report of a multi-unit extract is suppressed together
    (:func:`~opr_analysis.report.unit_disclosure.change_disclosure`): a row it hides shows
    «×» and no means (the means of the units and of the registry would otherwise tie the
    hidden n to the shown ones); a row it does not name is hidden.
    """
    labels = _kind_labels()
    rows = []
    for score, (label, dec) in CHANGE_TABLE_SCORES.items():
        for _, r in summary[summary["score"].astype(str) == score].iterrows():
            n = int(r["n"])
            small = 0 < n < min_cell if hidden is None else bool(hidden.get((score, str(r["kind"])), True))
            row = {
                "score": score,
                "kind": str(r["kind"]),
                GROUP: label,
                STUB: labels.get(str(r["kind"]), str(r["kind"])),
                "n": suppressed_label(min_cell) if small else fmt_int(n),
            }
            if small or n == 0:
                row.update(baseline=MISSING, followup=MISSING, change=MISSING, change_ci=MISSING)
            else:
                row.update(
                    baseline=fmt_num(r["baseline_mean"], dec),
                    followup=fmt_num(r["followup_mean"], dec),
                    change=fmt_num(r["change_mean"], dec),
                    change_ci=fmt_interval(r["change_ci_low"], r["change_ci_high"], dec),
                )
            rows.append(row)
    return pd.DataFrame(
        rows, columns=["score", "kind", GROUP, STUB, "n", "baseline", "followup", "change", "change_ci"]
    )


def change_summary_table(
    summary: pd.DataFrame,
    min_cell: int = DEFAULT_MIN_CELL,
    window: tuple[int, int] | None = None,
    hidden: pd.Series | None = None,
) -> GT:
    cells = change_summary_cells(summary, min_cell, hidden).drop(columns=["score", "kind"])
    labels = {"n": "Par", "baseline": "Baseline", "followup": "Oppfølging", "change": "Endring", "change_ci": "95 % KI"}
    note = (
        f"{SOURCE_REGISTRY} {window_note(window)} Gjennomsnitt over svar med både baseline og oppfølging (første "
        "svar på hver oppfølging, baseline høyst 365 dager før behandlingen). Endring = oppfølging − baseline, med 95 % konfidensintervall (t-fordeling). Lavere NRS, BPI og "
        "ODI er bedre; høyere EQ-5D-indeks er bedre. "
        f"Rader med færre enn {min_cell} par viser bare «{suppressed_label(min_cell)}»"
        + (
            "."
            if hidden is None
            else ", og det gjør også rader som sammen med de andre enhetenes rapporter ville avsløre et lite antall."
        )
    )
    return house_table(cells, note, labels=labels, stubhead="Oppfølging", id="prom_change")


# --- Non-response model ----------------------------------------------------------------------


def model_is_reportable(model: pd.DataFrame, min_cell: int = DEFAULT_MIN_CELL, events_per_term: int = 10) -> bool:
    """Whether a :func:`~opr_analysis.stats.models.tidy_logit` table may be shown.

    Both the events (answered) and the non-events (not answered) must number
    at least ``max(events_per_term, min_cell)`` per term other than the
    intercept — the usual «10 events per variable» rule, applied to the rarer
    outcome, which also keeps every small group out of the table.

    >>> m = pd.DataFrame({"term": ["Intercept", "x"], "n": [100, 100], "events": [91, 91]})
    >>> model_is_reportable(m), model_is_reportable(m.assign(events=90))
    (False, True)
    """
    if model is None or model.empty:
        return False
    terms = int((model["term"] != "Intercept").sum())
    n, events = int(model["n"].iloc[0]), int(model["events"].iloc[0])
    need = max(events_per_term, min_cell) * max(terms, 1)
    return min(events, n - events) >= need


def nonresponse_model_cells(model: pd.DataFrame, min_cell: int = DEFAULT_MIN_CELL) -> pd.DataFrame:
    """Odds ratios of answering a follow-up, 95 % CI and p, one row per term (no intercept).

    ``model``: :func:`~opr_analysis.stats.models.nonresponse_model`. Empty when
    :func:`model_is_reportable` is False.
    """
    columns = ["term", STUB, "odds_ratio", "ci", "p"]
    if not model_is_reportable(model, min_cell):
        return pd.DataFrame(columns=columns)
    m = model[model["term"] != "Intercept"]
    return pd.DataFrame(
        {
            "term": m["term"].astype(str),
            STUB: m["label"].astype(str),
            "odds_ratio": m["odds_ratio"].map(lambda v: fmt_num(v, 2)),
            "ci": [fmt_interval(lo, hi, 2) for lo, hi in zip(m["ci_low"], m["ci_high"], strict=True)],
            "p": m["p_value"].map(lambda v: fmt_p(v).removeprefix("p = ").removeprefix("p ")),
        },
        columns=columns,
    ).reset_index(drop=True)


def nonresponse_model_table(
    model: pd.DataFrame, min_cell: int = DEFAULT_MIN_CELL, counts_hidden: bool = False
) -> GT | None:
    """The model as a table, or None when it may not be shown (:func:`model_is_reportable`). ``counts_hidden``:
    the note leaves the model's follow-ups and answers out (every report of a multi-unit extract suppressed
    together, :func:`~opr_analysis.report.unit_disclosure.model_disclosure`)."""
    cells = nonresponse_model_cells(model, min_cell)
    if cells.empty:
        return None
    n, events = int(model["n"].iloc[0]), int(model["events"].iloc[0])
    labels = {"odds_ratio": "Oddsratio", "ci": "95 % KI", "p": "p"}
    counts = (
        f"; {fmt_int(n)} oppfølginger med baselinesvar i samme forløp, {fmt_int(events)} besvart og "
        f"{fmt_int(n - events)} ikke besvart."
    )
    if counts_hidden:
        counts = (
            " blant oppfølginger med baselinesvar i samme forløp (antallene er skjult: sammen med de andre "
            "enhetenes rapporter ville de avsløre et lite tall)."
        )
    note = (
        f"{SOURCE_REGISTRY} Logistisk regresjon av om en oppfølging som ble sendt, ble besvart"
        + counts
        + " Oddsratio under 1: gruppen svarer sjeldnere. Standardfeil "
        "justert for at samme pasient kan ha flere oppfølginger. Bare oppfølginger med alle variablene "
        "utfylt er med. En kategori vises bare når hver gruppe har minst "
        f"{max(min_cell, 10)} besvarte og {max(min_cell, 10)} ubesvarte; ellers er grupper slått sammen eller "
        "variabelen utelatt (se teksten)." + ("".join(" " + n for n in model.attrs.get("guard_notes", [])))
    )
    return house_table(
        cells.drop(columns="term"), note, labels=labels, stubhead="Kjennetegn ved baseline", id="prom_nonresponse"
    )
