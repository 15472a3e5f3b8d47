"""A profile's text, cell by cell: plain strings that the HTML page and the PDF both lay out.

Each ``*_cells`` function turns part of a :class:`~.assemble.PatientProfile` into lists and
dicts of Norwegian text (numbers by :mod:`opr_analysis.formatting`: decimal comma, minus
sign U+2212, no-break spaces); they are tested exactly. The renderers (:mod:`.page`,
:mod:`.typst`) only escape and place them, so the two formats cannot say different things.

Conventions: dates ``dd.mm.åååå``; a missing value «–»; a change is signed (``+3``,
``−2``) and, for the scores whose clinically important change is relative (NRS, PCS),
followed by the relative change (``−43 %``); :data:`MCID_MARK` marks a clinically important
improvement (:data:`~.definitions.MCIDS`, PGIC «mye»/«svært mye bedre»).
"""

from __future__ import annotations

import pandas as pd

from ..extract import codebook
from ..formatting import MISSING, NBSP, fmt_int, fmt_num, is_missing
from ..report.prom_figures import short_kind_label
from .definitions import MCIDS, PAIRING_NOTE, SCORES, score, scoring_notes
from .reference import AGE_BANDS, MIN_REFERENCE

__all__ = [
    "MCID_MARK",
    "TITLE",
    "background_cells",
    "baseline_cells",
    "baseline_title",
    "caveat_cells",
    "change_tables",
    "fmt_change",
    "fmt_date",
    "fmt_score",
    "header_cells",
    "method_notes",
    "sex_age",
    "timeline_cells",
]

TITLE = "Pasientprofil"
SUBTITLE = "OUS smerteregister – fra skjemaene pasienten har besvart"
CONFIDENTIAL = "Fortrolig: helseopplysninger om én pasient, til bruk i behandlingen."
MCID_MARK = "✓"
#: Follow-ups per change table (more are split into further tables so the page stays A4 wide).
CHANGE_COLUMNS = 4


def fmt_date(value) -> str:
    """``dd.mm.åååå`` (Norwegian), «–» when missing.

    >>> fmt_date(pd.Timestamp("2024-03-05 14:00")), fmt_date(None)
    ('05.03.2024', '–')
    """
    return MISSING if is_missing(value) else f"{pd.Timestamp(value):%d.%m.%Y}"


def fmt_score(value, decimals: int) -> str:
    """A score with its decimals (decimal comma); «–» when missing.

    >>> fmt_score(0.7171, 3), fmt_score(None, 0)
    ('0,717', '–')
    """
    return fmt_num(value, decimals)


def fmt_change(value, decimals: int) -> str:
    """A signed change: ``+3``, ``−2,5``, ``0``; «–» when missing.

    >>> fmt_change(3, 0), fmt_change(-0.25, 2), fmt_change(0.0, 0)
    ('+3', '−0,25', '0')
    """
    if is_missing(value):
        return MISSING
    text = fmt_num(value, decimals)
    return f"+{text}" if float(round(value, decimals)) > 0 else text


def _sex(code) -> str | None:
    if code is None:
        return None
    return str(codebook.load().column("patients", "sex").codes.get(code, code))


def sex_age(p) -> str:
    """«Kvinne, 53 år» (age by birth year at the first consultation); the parts that are known.

    >>> from types import SimpleNamespace
    >>> sex_age(SimpleNamespace(sex="K", age=53.0)), sex_age(SimpleNamespace(sex=None, age=None))
    ('Kvinne, 53 år', '')
    """
    return ", ".join(x for x in (_sex(p.sex), None if p.age is None else f"{fmt_int(p.age)} år") if x)


def header_cells(p) -> list[tuple[str, str]]:
    """The header lines: (label, value) for patient, enrolment, dates, unit, diagnosis and as-of day."""
    who = sex_age(p)
    out = [("Pasient", f"{p.patient_id}" + (f" – {who}" if who else ""))]
    out.append(("Innskriving", f"{p.enrolment_id}, rett til helsehjelp {fmt_date(p.granted_date)}"))
    fc = p.first_consultation_date
    planned = fc is not None and fc > p.as_of
    out.append(("Førstekonsultasjon", fmt_date(fc) + (" (planlagt)" if planned else "")))
    if p.closed_date is not None:
        out.append(("Avsluttet", fmt_date(p.closed_date)))
    if p.unit:
        out.append(("Enhet", p.unit))
    if p.diagnosis:
        out.append(("Hoveddiagnose", p.diagnosis))
    out.append(("Data per", fmt_date(p.as_of)))
    return out


def baseline_title(p) -> str:
    """The heading of the baseline section, with the date it was answered."""
    if p.baseline is None:
        return "Baseline: ikke besvart"
    return f"Baseline (besvart {fmt_date(p.baseline['submitted_at'])})"


def _reference_text(row) -> str:
    if row["reference_n"] < MIN_REFERENCE:
        return f"under {MIN_REFERENCE}"
    return fmt_int(row["reference_n"])


def baseline_cells(p) -> list[dict[str, str]]:
    """One row per score: label, value, category (published cut-off), percentile, reference N and direction.

    The percentile is hidden («–») when the reference group has fewer than
    :data:`~.reference.MIN_REFERENCE` patients; N is then shown as «under 20».
    """
    rows = []
    for s, (_, r) in zip(SCORES, p.scores.iterrows(), strict=True):
        pct = MISSING if (not r["reference_shown"] or is_missing(r["percentile"])) else fmt_num(r["percentile"], 0)
        rows.append(
            {
                "label": s.label,
                "value": fmt_score(r["value"], s.decimals),
                "category": r["category"] if isinstance(r["category"], str) else MISSING,
                "percentile": pct,
                "reference": MISSING if is_missing(r["value"]) else _reference_text(r),
                "direction": s.direction,
            }
        )
    return rows


def background_cells(p) -> list[tuple[str, str]]:
    """What the baseline says about the patient's pain history and situation, then the EQ-5D-5L profile."""
    out = list(p.background)
    if p.eq5d_levels:
        out.append(("EQ-5D-5L", "; ".join(f"{dim}: {level.lower()}" for dim, level in p.eq5d_levels)))
    return out


def timeline_cells(p) -> list[dict[str, str]]:
    """The timeline: date, event, detail; planned events say so."""
    return [
        {
            "date": fmt_date(e["date"]),
            "event": e["event"] + (" (planlagt)" if e["planned"] else ""),
            "detail": "" if e["detail"] == "planlagt" else str(e["detail"]),
            "planned": "ja" if e["planned"] else "",
        }
        for _, e in p.events.iterrows()
    ]


def _yes(flag) -> bool:
    """True for a true flag (Python or NumPy bool); False for false, None and NA."""
    return not is_missing(flag) and bool(flag)


def _change_cell(column: str, row) -> str:
    s = score(column)
    if row is None or is_missing(row["followup"]):
        return MISSING
    text = fmt_score(row["followup"], s.decimals)
    if is_missing(row["change"]):
        return text
    parts = [fmt_change(row["change"], s.decimals)]
    rule = MCIDS.get(column)
    if rule is not None and rule.kind == "share" and row["baseline"]:
        parts.append(fmt_change(100 * row["change"] / row["baseline"], 0) + f"{NBSP}%")
    mark = f" {MCID_MARK}" if _yes(row["mcid"]) else ""
    return f"{text} ({'; '.join(parts)}){mark}"


def change_tables(p) -> list[dict]:
    """The change from baseline, one table per baseline (episode) and at most :data:`CHANGE_COLUMNS`
    follow-ups each: ``{"title", "header", "rows"}``, rows = [label, baseline, follow-up cells …].

    A cell is the follow-up score, the change (and relative change where the MCID is relative)
    and :data:`MCID_MARK` where the improvement is clinically important. The last row is PGIC.
    An unpaired follow-up (no baseline within the pairing rule) has its own table without changes.
    """
    ch = p.changes
    if ch.empty:
        return []
    pgic = p.pgic.set_index("followup_id")
    follow = ch.drop_duplicates("followup_id")
    groups = follow.groupby(follow["baseline_date"].fillna(pd.Timestamp(0)), sort=True)
    tables = []
    for when, fus in groups:
        paired = bool(fus["paired"].iloc[0])
        ids = fus["followup_id"].tolist()
        for start in range(0, len(ids), CHANGE_COLUMNS):
            chunk = ids[start : start + CHANGE_COLUMNS]
            header = ["Mål", f"Baseline {fmt_date(when)}" if paired else "Baseline"]
            header = header
            for fid in chunk:
                r = fus[fus["followup_id"] == fid].iloc[0]
                header.append(f"{short_kind_label(r['kind'])} {fmt_date(r['responded_date'])}")
            rows = []
            for s in SCORES:
                cells = ch[(ch["column"] == s.column) & ch["followup_id"].isin(chunk)].set_index("followup_id")
                first = cells.iloc[0] if len(cells) else None
                base = fmt_score(first["baseline"], s.decimals) if first is not None and paired else MISSING
                rows.append([s.short, base] + [_change_cell(s.column, cells.loc[fid]) for fid in chunk])
            pg = []
            for fid in chunk:
                label = pgic.loc[fid, "label"] if fid in pgic.index else None
                improved = pgic.loc[fid, "improved"] if fid in pgic.index else None
                pg.append(
                    MISSING if not isinstance(label, str) else label + (f" {MCID_MARK}" if _yes(improved) else "")
                )
            rows.append(["Endring (PGIC)", ""] + pg)
            title = "Endring fra baseline" if paired else "Oppfølginger uten baseline å sammenligne med"
            tables.append({"title": title, "header": header, "rows": rows})
    return tables


def caveat_cells(p) -> list[str]:
    """The data caveats, one sentence each (empty list: none)."""
    return list(p.caveats)


def method_notes(p) -> list[str]:
    """The footnote: how the percentile and reference group are made, the scoring rules and sources."""
    band = p.age_band or "ukjent"
    sex = (_sex(p.sex) or "ukjent kjønn").lower()
    bands = ", ".join([f"{lo}–{hi - 1}" for lo, hi in zip(AGE_BANDS, AGE_BANDS[1:])] + [f"{AGE_BANDS[-1]}+"])
    notes = [
        "Persentil: andelen i referansegruppen med lavere skår pluss halvparten av dem med lik skår "
        "(scipy percentileofscore, kind=«mean»); 50 er midt i gruppen. Høyere persentil betyr høyere skår, "
        "uansett om høy skår er bedre eller verre.",
        f"Referansegruppe: registerets pasienter ({sex}, {band} år) som besvarte baselineskjemaet før "
        f"{p.reference_year}, én besvarelse per pasient (den siste), pasienten selv ikke medregnet; "
        f"aldersgrupper {bands} år etter fødselsår. Persentil og referansebånd vises bare når minst "
        f"{MIN_REFERENCE} pasienter har skåren. Ved oppfølginger: første svar på samme oppfølgingstype, "
        f"forfalt før {p.reference_year}.",
        f"{MCID_MARK} klinisk viktig bedring: "
        + "; ".join(f"{score(c).label.split(' (')[0]} {m.text} ({m.source})" for c, m in MCIDS.items())
        + "; PGIC «mye» eller «svært mye bedre» (Farrar et al. 2001). "
        + PAIRING_NOTE,
    ]
    notes += list(scoring_notes().values())
    notes.append("Alder regnes etter fødselsår (kalenderår minus fødselsår).")
    return notes
