"""The report's tables as great-tables ``GT`` objects, Norwegian formatting.

Each report table has two functions: ``<name>_cells(frame, …)`` turns the tidy
frame of the statistics function into the displayed cells (text, one row per
table line; tests compare these with ``opr tables``), and ``<name>_table(…)``
wraps them in a ``GT`` with source note and column spanners. Captions
(«Tabell N: …») are not part of the GT: the notebook gives them as Quarto cell
options (``#| tbl-cap:``) so that Quarto numbers and cross-references them.

Tables 10–12 and 15 show the report year and the two years before it side by
side, as the seed report does. Counts about patients (follow-up audit,
patient-level baseline rate) go through :mod:`.suppression`; administrative
counts (referrals, forms, reasons) are shown exactly.

>>> import pandas as pd
>>> t10 = pd.DataFrame({"year": [2023], "assessed": [2080], "rejected": [951],
...     "rejected_share": [951 / 2080], "rejected_share_ci_low": [0.436], "rejected_share_ci_high": [0.479]})
>>> referrals_assessed_cells(t10, [2023]).loc[1, "2023"].replace("\\u00a0", " ")
'951 (45,7 %)'
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import pandas as pd
from great_tables import GT, loc, style

from ..extract import codebook
from ..formatting import MISSING, fmt_int, fmt_num, fmt_pct, fmt_pct_interval, format_hms
from ..stats.followup import AWAITING_DAYS, followup_totals
from .suppression import (
    DEFAULT_MIN_CELL,
    SUPPRESSED,
    Hidden,
    display_value,
    hidden_tables,
    publish,
    suppression_note,
)

__all__ = [
    "years_window",
    "referrals_assessed_cells",
    "referrals_assessed_table",
    "referrals_by_region_cells",
    "referrals_by_region_table",
    "baseline_response_cells",
    "baseline_response_table",
    "baseline_patient_level_cells",
    "baseline_patient_level_table",
    "legacy_baseline_response_cells",
    "legacy_baseline_response_table",
    "completion_time_cells",
    "completion_time_table",
    "short_form_reasons_cells",
    "short_form_reasons_table",
    "followup_response_cells",
    "followup_response_table",
    "generic_cells",
    "generic_table",
]

STUB = "label"
GROUP = "group"
SOURCE_DIPS = "Kilde: OUS smerteregister, henvisningslogg fra DIPS."
SOURCE_REGISTRY = "Kilde: OUS smerteregister (Medinsight og Nettskjema)."
REGIONS = [("lokal", "Lokal"), ("nasjonal", "Nasjonal"), ("regional", "Regional")]
DECISIONS = [("rett", "Henvisninger gitt behandlingsrett"), ("avvist", "Avviste henvisninger")]


def years_window(report_year: int, shown: int = 3) -> list[int]:
    """The report year and the ``shown - 1`` years before it, oldest first.

    >>> years_window(2024)
    [2022, 2023, 2024]
    """
    return list(range(int(report_year) - shown + 1, int(report_year) + 1))


def _by_year(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out["year"] = out["year"].astype(int)
    return out.set_index("year")


def ci_cells(frame: pd.DataFrame, share: str) -> pd.Series:
    """``"27,9–32,1 %"`` per row from ``<share>_ci_low`` / ``<share>_ci_high`` (:func:`fmt_pct_interval`)."""
    low, high = frame[f"{share}_ci_low"], frame[f"{share}_ci_high"]
    return pd.Series(
        [fmt_pct_interval(lo, hi) for lo, hi in zip(low, high, strict=True)], index=frame.index, dtype=object
    )


def house_table(
    cells: pd.DataFrame,
    source: str,
    *,
    spanners: dict[str, list[str]] | None = None,
    labels: dict[str, str] | None = None,
    stubhead: str = "",
    id: str | None = None,
) -> GT:
    """Common look: stub on the left, values right-aligned, source note below.

    ``id`` becomes the HTML id of the table (``opr-<id>``), so that tests and
    readers' tools can find a table in the rendered report.
    """
    group = GROUP if GROUP in cells.columns else None
    table = GT(cells, rowname_col=STUB, groupname_col=group, id=f"opr-{id}" if id else None)
    value_cols = [c for c in cells.columns if c not in (STUB, GROUP)]
    table = table.cols_align("right", columns=value_cols).tab_source_note(source)
    if stubhead:
        table = table.tab_stubhead(stubhead)
    for label, cols in (spanners or {}).items():
        table = table.tab_spanner(label=label, columns=cols)
    if labels:
        table = table.cols_label(cases=labels)
    table = table.tab_style(style.text(weight="bold"), loc.row_groups()) if group else table
    return table.tab_options(table_font_size="90%", quarto_disable_processing=False)


# --- Table 10 --------------------------------------------------------------------------------


def referrals_assessed_cells(frame: pd.DataFrame, years: Sequence[int]) -> pd.DataFrame:
    """Table 10: referrals assessed and rejected (N and %) per year."""
    f = _by_year(frame).reindex(years)
    ci = ci_cells(f, "rejected_share")
    rows = {
        "Henvisninger vurdert (uten «åpen retur» og forespørsler)": [fmt_int(v) for v in f["assessed"]],
        "Henvisninger avvist, N (%)": [
            f"{fmt_int(n)} ({fmt_pct(s)})" if not pd.isna(n) else MISSING
            for n, s in zip(f["rejected"], f["rejected_share"], strict=True)
        ],
        "Andel avvist, 95 % KI": list(ci),
    }
    return pd.DataFrame(
        [{STUB: k, **{str(y): v for y, v in zip(years, vals, strict=True)}} for k, vals in rows.items()]
    )


def referrals_assessed_table(frame: pd.DataFrame, years: Sequence[int]) -> GT:
    return house_table(referrals_assessed_cells(frame, years), SOURCE_DIPS, id="referrals_assessed")


# --- Table 11 --------------------------------------------------------------------------------


def referrals_by_region_cells(frame: pd.DataFrame, years: Sequence[int]) -> pd.DataFrame:
    """Table 11: referrals per health region, N and share, «annet og blanke» apart.

    Shares are those of ``referrals_by_region`` (over lokal, regional, nasjonal);
    the two sum lines add the shown counts.
    """
    f = frame.copy()
    f["year"] = f["year"].astype(int)
    out = []
    for decision, group_label in DECISIONS:
        d = f[f["decision"].astype(str) == decision]
        n = d.pivot_table(index="region", columns="year", values="n", aggfunc="sum", observed=True)
        share = d.pivot_table(
            index="region", columns="year", values="share", aggfunc="sum", observed=True, dropna=False
        )
        n = n.reindex(columns=years)
        known = [code for code, _ in REGIONS]

        def line(label, counts, shares=None, group_label=group_label):
            row = {GROUP: group_label, STUB: label}
            for y in years:
                c = counts.get(y)
                row[f"{y}_n"] = fmt_int(c)
                row[f"{y}_share"] = "" if shares is None else fmt_pct(shares.get(y))
            return row

        for code, label in REGIONS:
            out.append(
                line(
                    label,
                    n.loc[code] if code in n.index else {},
                    share.reindex(columns=years).loc[code] if code in share.index else {},
                )
            )
        in_regions = n.reindex(known).sum(min_count=1)
        out.append(line("Sum lokal, nasjonal og regional", in_regions))
        other = n.loc["annet_blank"] if "annet_blank" in n.index else {}
        out.append(line("«Annet» og blanke celler", other))
        out.append(line("Totalt", n.sum(min_count=1)))
    return pd.DataFrame(out)


def referrals_by_region_table(frame: pd.DataFrame, years: Sequence[int]) -> GT:
    cells = referrals_by_region_cells(frame, years)
    spanners = {str(y): [f"{y}_n", f"{y}_share"] for y in years}
    labels = {c: ("N" if c.endswith("_n") else "%") for c in cells.columns if c not in (STUB, GROUP)}
    note = SOURCE_DIPS + " Andelene er regnet av lokal, nasjonal og regional; «annet» og blanke celler er utelatt."
    return house_table(cells, note, spanners=spanners, labels=labels, id="referrals_by_region")


# --- Table 12 and the patient-level rate -------------------------------------------------------


def baseline_response_cells(frame: pd.DataFrame, years: Sequence[int]) -> pd.DataFrame:
    """Table 12: enrolments, baseline forms received and their ratio per year.

    The ratio is not a proportion (forms are not a subset of enrolments), so it has no interval.
    """
    f = _by_year(frame).reindex(years)
    rows = {
        "Innskrivinger gitt rett til helsehjelp": [fmt_int(v) for v in f["enrolments"]],
        "Mottatte baselineskjemaer": [fmt_int(v) for v in f["baseline_responses"]],
        "Baselineskjemaer per innskriving": [fmt_pct(v) for v in f["response_share"]],
    }
    return pd.DataFrame(
        [{STUB: k, **{str(y): v for y, v in zip(years, vals, strict=True)}} for k, vals in rows.items()]
    )


def baseline_response_table(frame: pd.DataFrame, years: Sequence[int]) -> GT:
    note = (
        SOURCE_REGISTRY + " Noen pasienter gis behandlingsrett to ganger i løpet av et år, og noen svarer "
        "på mer enn ett baselineskjema; forholdstallet kan derfor overstige 100 %. Det er ikke en andel "
        "(skjemaene er ikke en delmengde av innskrivingene) og vises uten konfidensintervall; andelen "
        "innskrivinger med baselinesvar, med intervall, står i tabellen som følger."
    )
    return house_table(baseline_response_cells(frame, years), note, id="baseline_response")


def baseline_patient_level_cells(
    frame: pd.DataFrame, years: Sequence[int], min_cell: int = DEFAULT_MIN_CELL, hidden: dict[str, Hidden] | None = None
) -> pd.DataFrame:
    """Enrolments with at least one baseline answer (patient level): the published cells
    (:func:`~.suppression.publish`, the table's declaration; ``hidden``: the publication's
    :func:`~.suppression.hidden_tables`), for ``years``."""
    name = "baseline_response_patient_level"
    f = _by_year(publish(name, frame, min_cell, (hidden or {}).get(name))).reindex(years)
    rows = {
        "Innskrivinger": [display_value(v, fmt_int) for v in f["enrolments"]],
        "Innskrivinger med minst ett baselinesvar": [display_value(v, fmt_int) for v in f["enrolments_with_baseline"]],
        "Andel med baselinesvar": [display_value(v, fmt_pct) for v in f["response_share"]],
        "95 % KI": [
            MISSING if MISSING in (lo, hi) else fmt_pct_interval(lo, hi)
            for lo, hi in zip(f["response_share_ci_low"], f["response_share_ci_high"], strict=True)
        ],
    }
    return pd.DataFrame(
        [{STUB: k, **{str(y): v for y, v in zip(years, vals, strict=True)}} for k, vals in rows.items()]
    )


def baseline_patient_level_table(
    frame: pd.DataFrame, years: Sequence[int], min_cell: int = DEFAULT_MIN_CELL, hidden: dict[str, Hidden] | None = None
) -> GT:
    note = SOURCE_REGISTRY + " Hver innskriving telles én gang. " + suppression_note(min_cell)
    cells = baseline_patient_level_cells(frame, years, min_cell, hidden)
    return house_table(cells, note, id="baseline_response_patient_level")


# --- Table 13 --------------------------------------------------------------------------------


def legacy_baseline_response_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Table 13: OPRv1 baseline answers, DIPS new patients and their ratio, every legacy year."""
    f = _by_year(frame).sort_index()
    years = list(f.index)
    rows = {
        "Pasienter som svarte på baseline": [fmt_int(v) for v in f["baseline_responses"]],
        "Nye pasienter (DIPS)": [fmt_int(v) for v in f["new_patients"]],
        "Andel av nye pasienter som svarte": [fmt_pct(v, 0) for v in f["response_share"]],
    }
    return pd.DataFrame(
        [{STUB: k, **{str(y): v for y, v in zip(years, vals, strict=True)}} for k, vals in rows.items()]
    )


def legacy_baseline_response_table(frame: pd.DataFrame) -> GT:
    note = (
        "Kilde: OPRv1 (Infopad), antall baselinemålinger, og DIPS, rapport over nye pasienter. "
        "Tall for 2020 er påvirket av koronapandemien."
    )
    return house_table(legacy_baseline_response_cells(frame), note, id="legacy_baseline_response")


# --- Table 14 --------------------------------------------------------------------------------

COMPLETION_COLUMNS = [
    ("min_ms", "Minimum"),
    ("q1_ms", "1. kvartil"),
    ("median_ms", "Median"),
    ("q3_ms", "3. kvartil"),
    ("max_ms", "Maksimum"),
]


def completion_time_cells(frame: pd.DataFrame, years: Sequence[int] | None = None) -> pd.DataFrame:
    """Table 14: completion time (T:M:S, truncated to whole seconds) per period.

    With ``years``, the rows are those of the years present in ``frame`` and
    then «alle» (all years); without, every period of ``frame``.
    """
    f = frame.assign(period=frame["period"].astype(str)).set_index("period")
    if years is not None:
        f = f.loc[[str(y) for y in years if str(y) in f.index] + [p for p in ["alle"] if p in f.index]]
    rows = []
    for period, r in f.iterrows():
        row = {STUB: "Alle år" if period == "alle" else period, "n": fmt_int(r["n"])}
        row.update({col: format_hms(r[col]) for col, _ in COMPLETION_COLUMNS})
        rows.append(row)
    return pd.DataFrame(rows)


def completion_time_table(frame: pd.DataFrame, years: Sequence[int] | None = None) -> GT:
    labels = {"n": "Antall", **dict(COMPLETION_COLUMNS)}
    note = (
        SOURCE_REGISTRY + " Tid fra skjemaet ble åpnet til det ble sendt inn, i timer:minutter:sekunder "
        "(avkortet til hele sekunder); registerets tabellfiler har tidene i millisekunder."
    )
    return house_table(completion_time_cells(frame, years), note, labels=labels, stubhead="År", id="completion_time")


# --- Table 15 --------------------------------------------------------------------------------


def short_form_reasons_cells(frame: pd.DataFrame, years: Sequence[int]) -> pd.DataFrame:
    """Table 15: reasons for the short form per year; «annet/tomme celler» last, then the total."""
    codes = codebook.load().column("short_forms", "reason").codes
    f = frame.assign(year=frame["year"].astype(int), reason=frame["reason"].astype(str))
    n = f.pivot_table(index="reason", columns="year", values="n", aggfunc="sum", observed=True).reindex(columns=years)
    order = [c for c in codes if c != "annet"] + ["annet"]
    rows = [
        {STUB: codes[c], **{str(y): fmt_int(n.loc[c, y]) if c in n.index else MISSING for y in years}} for c in order
    ]
    rows.append({STUB: "Totalt", **{str(y): fmt_int(n[y].sum(min_count=1)) for y in years}})
    return pd.DataFrame(rows)


def short_form_reasons_table(frame: pd.DataFrame, years: Sequence[int]) -> GT:
    note = "Kilde: OUS smerteregister, kortversjoner registrert av kontorpersonalet. Blanke årsaker telles som «annet»."
    return house_table(short_form_reasons_cells(frame, years), note, id="short_form_reasons")


# --- Follow-up audit -------------------------------------------------------------------------

FOLLOWUP_COLUMNS = [
    ("owed", "Skyldig"),
    ("sent_owed", "Sendt"),
    ("not_sent", "Ikke sendt"),
    ("awaiting", "Svarfrist ikke ute"),
    ("settled", "Grunnlag for svarandel"),
    ("responded_settled", "Besvart"),
]
#: Shown apart, after the share: sends that were not owed and the answers to them.
FOLLOWUP_APART = [("sent_not_owed", "Sendt uten å være skyldig"), ("responded_not_owed", "Besvart av disse")]


def followup_response_cells(
    frame: pd.DataFrame, year: int, min_cell: int = DEFAULT_MIN_CELL, hidden: dict[str, Hidden] | None = None
) -> pd.DataFrame:
    """Follow-up audit for one year, each share beside the denominator it divides by.

    Columns: owed, sent (as owed), not sent, response window still open (sent within
    :data:`~opr_analysis.stats.followup.AWAITING_DAYS` days of the as-of date, answered or not), settled
    (= sent − window open, the share's denominator; :func:`~opr_analysis.stats.followup.settled_at`),
    answered (among the settled), the share answered / settled with its limits; then apart: sent without being
    owed and the answers to those (never in the share). One row per kind present plus
    «Alle typer» (the table ``followup_response_totals``). The counts are patient
    counts: the cells are those every publication shows (:func:`~.suppression.publish`
    of the two declarations, suppressed together: ``hidden``, the publication's
    :func:`~.suppression.hidden_tables`; default, these two tables alone), a hidden
    count «×», a hidden share «–». The row key is kept in column ``kind`` (``"alle"``).
    """
    labels = codebook.load().column("followups", "kind").codes
    totals = followup_totals(frame)
    if hidden is None:
        hidden = hidden_tables({"followup_response": frame, "followup_response_totals": totals}, min_cell)
    kinds = publish("followup_response", frame, min_cell, hidden.get("followup_response"))
    alle = publish("followup_response_totals", totals, min_cell, hidden.get("followup_response_totals"))
    f = kinds[frame["year"].astype(int) == int(year)].copy()
    f["kind"] = f["kind"].astype(str)
    present = set(f["kind"])
    f = f.set_index("kind").reindex([k for k in labels if k in present])
    if present:
        f.loc["alle"] = alle[totals["year"].astype(int) == int(year)].iloc[0].reindex(f.columns)
    out = pd.DataFrame({"kind": f.index, STUB: [labels.get(k, "Alle typer") for k in f.index]}, index=f.index)
    for col, _ in FOLLOWUP_COLUMNS:
        out[col] = [display_value(v, fmt_int) for v in f[col]]
    share = "response_share_settled"
    out["response_share"] = [display_value(v, fmt_pct) for v in f[share]]
    out["response_share_ci"] = [
        MISSING if (isinstance(lo, str) and lo == MISSING) else fmt_pct_interval(lo, hi)
        for lo, hi in zip(f[f"{share}_ci_low"], f[f"{share}_ci_high"], strict=True)
    ]
    for col, _ in FOLLOWUP_APART:
        out[col] = [display_value(v, fmt_int) for v in f[col]]
    return out.reset_index(drop=True)


def followup_response_table(
    frame: pd.DataFrame, year: int, min_cell: int = DEFAULT_MIN_CELL, hidden: dict[str, Hidden] | None = None
) -> GT:
    labels = {
        **dict(FOLLOWUP_COLUMNS),
        "response_share": "Svarandel",
        "response_share_ci": "95 % KI",
        **dict(FOLLOWUP_APART),
    }
    note = (
        f"Kilde: OUS smerteregister. Skyldig: oppfølging med forfallsdato i {year} til pasient som oppfyller "
        "kriteriene (18 år eller eldre, ikke kognitiv svikt, ikke behov for tolk, ikke i forskningsprosjekt, "
        "ikke reservert), regnet per skjæringsdatoen. Sendt: første utsending for en skyldig oppfølging. "
        f"Svarfrist ikke ute: sendt mindre enn {AWAITING_DAYS} dager før skjæringsdatoen, besvart eller ikke; "
        "ikke med i svarandelen ennå. Svarandel = besvart / grunnlag for svarandel (sendt − svarfrist ikke ute): "
        "andelen av de sendte skjemaene som ble besvart; "
        "svar etter skjæringsdatoen er ikke med. Skjemaer sendt uten å være skyldige (sendt på nytt, "
        "til unntatte pasienter eller før forfall) og svarene på dem står til høyre og er ikke med i svarandelen."
        + (" " + suppression_note(min_cell) if min_cell > 1 else "")
    )
    cells = followup_response_cells(frame, year, min_cell, hidden).drop(columns="kind")
    return house_table(cells, note, labels=labels, stubhead="Oppfølging", id="followup_response")


# --- Anything else (data quality) ------------------------------------------------------------

COLUMN_LABELS = {
    "year": "År",
    "table": "Tabell",
    "column": "Kolonne",
    "rows": "Rader",
    "missing": "Mangler",
    "enrolments": "Innskrivinger",
    "patients": "Pasienter",
    "baseline_responses": "Baselinesvar",
    "rows_read": "Lest",
    "rows_used": "Brukt",
    "rows_quarantined": "Karantene",
    "closed_in_dips": "Avsluttet i DIPS",
    "open_in_registry": "Åpne i registeret",
    "open_in_registry_share": "Andel åpne",
    "missing_share": "Andel som mangler",
    "patients_multiple": "Med flere innskrivinger",
    "multiple_share": "Andel",
    "enrolments_multiple_baselines": "Med flere baselineskjemaer",
    "without_enrolment": "Uten innskriving",
    "with_enrolment": "Med innskriving",
    "after_consultation": "Etter første konsultasjon",
    "after_consultation_share": "Andel etter konsultasjon",
    "without_enrolment_share": "Andel uten innskriving",
    "with_consultation": "Med førstekonsultasjon",
    "consultation_before_grant": "Konsultasjon før rett",
    "consultation_before_grant_share": "Andel før rett",
}


def _symbol(value) -> bool:
    return isinstance(value, str) and value in (SUPPRESSED, MISSING)


def _kind(s: pd.Series) -> str:
    """What a column holds, hidden cells («×», «–») aside: integer, floating, or other."""
    if s.dtype == object:
        kind = pd.api.types.infer_dtype(s[~s.map(_symbol)], skipna=True)
        return kind if kind in ("integer", "floating") else ("floating" if kind == "mixed-integer-float" else "other")
    if pd.api.types.is_integer_dtype(s):
        return "integer"
    return "floating" if pd.api.types.is_float_dtype(s) else "other"


def _generic(frame: pd.DataFrame, labels: dict[str, str] | None):
    """(cells, column headings, right-aligned columns) of :func:`generic_table`."""
    cells = pd.DataFrame(index=frame.index)
    names = {**COLUMN_LABELS, **(labels or {})}
    numeric: list[str] = []  # right-aligned, so that digits line up
    for col in frame.columns:
        s = frame[col]
        kind = _kind(s)
        if col.endswith(("_ci_low", "_ci_high")):
            continue
        if col == "year":
            cells[col] = s.astype("string").fillna(MISSING)
        elif col.endswith("_share") and kind != "other":
            cells[col] = s.map(lambda v: display_value(v, fmt_pct))
            numeric.append(col)
            names.setdefault(col, "Andel")
            if f"{col}_ci_low" in frame.columns:
                low, high = frame[f"{col}_ci_low"], frame[f"{col}_ci_high"]
                cells[f"{col}_ci"] = [
                    MISSING if _symbol(lo) or _symbol(hi) else fmt_pct_interval(lo, hi)
                    for lo, hi in zip(low, high, strict=True)
                ]
                numeric.append(f"{col}_ci")
                names.setdefault(f"{col}_ci", "95 % KI")
        elif kind == "integer":
            cells[col] = s.map(lambda v: display_value(v, fmt_int))
            numeric.append(col)
        elif kind == "floating":
            cells[col] = s.map(lambda v: display_value(v, fmt_num))
            numeric.append(col)
        else:
            cells[col] = s.astype("string").fillna(MISSING)
    return cells.reset_index(drop=True), names, numeric


def _named_tables(frame: pd.DataFrame) -> pd.DataFrame:
    """The extract's tables by their codebook label, never their internal name."""
    if "table" not in frame.columns:
        return frame
    tables = codebook.load().tables
    return frame.assign(table=[tables[t].label if t in tables else t for t in frame["table"]])


def generic_cells(frame: pd.DataFrame, labels: dict[str, str] | None = None) -> pd.DataFrame:
    """The text cells of :func:`generic_table` (plain data), hidden cells («×», «–») as they are."""
    return _generic(_named_tables(frame), labels)[0]


def generic_table(frame: pd.DataFrame, source: str, labels: dict[str, str] | None = None, id: str | None = None) -> GT:
    """A tidy frame shown as is, Norwegian formatted by column type (validation and data-quality tables).

    Integer columns get thousands separators, ``X_share`` columns percentages
    with their ``X_share_ci_low/high`` joined into one «95 % KI» column, other
    floats one decimal; ``year`` stays plain; hidden cells of a published frame
    (:func:`~.suppression.publish`) keep their symbols. Columns are labelled from
    ``labels``, then :data:`COLUMN_LABELS`, else by their name. The HTML id is
    ``opr-<id>``, by default derived from the content, so that the same table
    gives the same page on every run (great-tables would draw a random one).
    """
    frame = _named_tables(frame)
    cells, names, numeric = _generic(frame, labels)
    if id is None:
        id = hashlib.sha256(f"{source}\n{frame.to_csv()}".encode()).hexdigest()[:12]
    table = GT(cells, id=f"opr-{id}").tab_source_note(source)
    table = table.cols_label(cases={c: names.get(c, c.replace("_", " ").capitalize()) for c in cells.columns})
    if numeric:
        table = table.cols_align("right", columns=numeric)
    return table.tab_options(table_font_size="90%")
