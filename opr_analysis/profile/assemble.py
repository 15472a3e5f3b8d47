"""One patient's profile as plain data: what the page shows, computed by the registry's own functions.

Sources (one computation per registry and as-of day, :func:`profile_context`)
-----------------------------------------------------------------------------
- scores: :func:`~opr_analysis.stats.proms.baseline_scores` and
  :func:`~opr_analysis.stats.proms.followup_scores` (the scoring module's rules);
- change from baseline: :func:`~opr_analysis.stats.proms.paired_outcomes` (its pairing rule
  and ``nrs_improved_30``); the other clinically important changes: :data:`.definitions.MCIDS`;
- follow-ups sent, answered, owed or not: :func:`~opr_analysis.stats.followup.followup_audit`;
- which enrolment an event belongs to: :func:`~opr_analysis.stats.linking.enrolment_of`.

Rules of the profile
--------------------
- **Censoring.** Everything is seen as it stood at the end of the as-of day: later
  enrolments, baselines, short forms and treatments are left out, later sends and answers are
  not seen (the audit's rule); a first consultation or due date after it is shown as planned.
- **The enrolment.** ``opr pasient ID`` shows the patient's latest enrolment granted on or
  before the as-of day (:func:`patient_enrolment`); the clinic day shows each enrolment whose
  first consultation is that day (:func:`clinic_enrolments`).
- **The baseline** of the enrolment is the latest full baseline linked to it
  (:func:`~opr_analysis.stats.baseline.baseline_links`) answered on or before the first
  consultation; if there is none, the earliest answered after it (a caveat says so).
- **The timeline** holds every event of the patient up to the as-of day, earlier enrolments
  included; **the change table** every answered follow-up of the patient (first answer per
  anchor and kind) with the baseline its own episode pairs it with.
- **Age** is by birth year (:func:`~opr_analysis.stats.derived.age_at`), at the first
  consultation (else the grant); the reference uses the age band at the baseline.
- **Nothing of another patient** enters a profile except through the reference groups of
  :mod:`.reference` (aggregates over at least 20 patients).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ..errors import OprError, UsageError
from ..extract import codebook
from ..extract.units import has_units, row_units, unit_table
from ..report.prom_figures import short_kind_label
from ..stats.derived import age_at
from ..stats.followup import followup_audit
from ..stats.linking import day, enrolment_of
from ..stats.proms import baseline_scores, followup_scores, paired_outcomes
from .definitions import INSTRUMENT_NAMES, SCORES, baseline_category, item_rules, mcid_reached
from .gate import erased_enrolments, erased_patients
from .reference import age_band, latest_per_patient, reference_summary

__all__ = [
    "ErasedPatientError",
    "PatientProfile",
    "ProfileContext",
    "baseline_reference",
    "clinic_enrolments",
    "followup_reference",
    "followup_status",
    "missing_item_notes",
    "patient_enrolment",
    "patient_profile",
    "profile_context",
]

#: Instrument -> the score whose presence tells whether the instrument was scored.
INSTRUMENT_SCORE = {
    "bpi_interference": "bpi_interference",
    "eq5d5l": "eq5d_index",
    "hscl10": "hscl10_mean",
    "pcs": "pcs_total",
    "isi": "isi_total",
    "odi": "odi_percent",
}

#: Items of the short follow-up questionnaire (contract v1.1 ``variant`` ``kort``): EQ-5D and PGIC.
SHORT_FOLLOWUP_INSTRUMENTS = ("eq5d5l", "pgic")

DEMOGRAPHICS = ("pain_duration", "work_status", "sick_leave", "education")


class ErasedPatientError(OprError):
    """The patient has an effective erasure: no profile (exit status 1)."""


@dataclass
class ProfileContext:
    """The registry-wide frames every profile of one run reads (computed once)."""

    reg: object
    as_of: pd.Timestamp
    baselines: pd.DataFrame
    followups: pd.DataFrame
    paired: pd.DataFrame
    audit: pd.DataFrame
    erased: frozenset[str]
    _references: dict = field(default_factory=dict, repr=False)


def profile_context(reg, as_of=None) -> ProfileContext:
    """Score, pair and audit the registry once for profiles as of ``as_of`` (default today)."""
    as_of = pd.Timestamp.today().normalize() if as_of is None else pd.Timestamp(as_of).normalize()
    erased = erased_patients(reg)
    base = baseline_scores(reg)
    base = base[(base["submitted_date"] <= as_of) & ~base["patient_id"].astype(str).isin(erased)].copy()
    base["age_band"] = age_band(base["age"]).to_numpy()
    fu = followup_scores(reg, as_of)
    fu = fu[~fu["patient_id"].astype(str).isin(erased)].copy()
    fu["age_band"] = age_band(fu["age"]).to_numpy()
    return ProfileContext(
        reg=reg,
        as_of=as_of,
        baselines=base.reset_index(drop=True),
        followups=fu.reset_index(drop=True),
        paired=paired_outcomes(reg, as_of),
        audit=followup_audit(reg, as_of),
        erased=erased,
    )


# --------------------------------------------------------------------------- which enrolment


def _check_patient(ctx: ProfileContext, patient_id: str) -> None:
    if patient_id in ctx.erased:
        raise ErasedPatientError(
            f"pasient {patient_id} har krevd sletting fra registeret; det lages ingen profil, og ingenting om "
            "pasienten er tatt med"
        )
    if not (ctx.reg.patients["patient_id"].astype(str) == patient_id).any():
        raise UsageError(f"pasient-ID «{patient_id}» finnes ikke i uttrekket (tabellen patients)")


def patient_enrolment(ctx: ProfileContext, patient_id: str) -> str:
    """The enrolment ``opr pasient ID`` shows: the patient's latest granted on or before the as-of day.

    Raises :class:`ErasedPatientError` (erased), :class:`UsageError` (unknown id) or
    :class:`OprError` (no enrolment yet).
    """
    patient_id = str(patient_id)
    _check_patient(ctx, patient_id)
    e = ctx.reg.enrolments
    mine = e[(e["patient_id"].astype(str) == patient_id) & (e["granted_date"] <= ctx.as_of)]
    if mine.empty:
        raise OprError(f"pasient {patient_id} har ingen innskriving med rett til helsehjelp per {ctx.as_of:%d.%m.%Y}")
    mine = mine.sort_values(["granted_date", "enrolment_id"], kind="stable")
    return str(mine["enrolment_id"].iloc[-1])


def clinic_enrolments(ctx: ProfileContext, date, unit_id: str | None = None) -> tuple[list[str], int]:
    """Enrolments whose first consultation is on ``date`` (in ``unit_id`` if given), by patient id,
    and how many more there are of patients with an effective erasure (they get no profile)."""
    date = pd.Timestamp(date).normalize()

    def on_day(frame: pd.DataFrame, units) -> pd.DataFrame:
        hit = (day(frame["first_consultation_date"]) == date).to_numpy()
        if unit_id is not None:
            hit = hit & (units == unit_id)
        return frame[hit]

    e = ctx.reg.enrolments
    rows = on_day(e, row_units(ctx.reg, "enrolments").to_numpy())
    rows = rows[~rows["patient_id"].astype(str).isin(ctx.erased).to_numpy()]
    kept = rows.sort_values(["patient_id", "enrolment_id"], kind="stable")["enrolment_id"].astype(str).tolist()
    gone = erased_enrolments(ctx.reg, ctx.erased)
    units = gone["unit_id"].astype(object).to_numpy() if has_units(ctx.reg) else "ous"
    return kept, len(on_day(gone, units))


# --------------------------------------------------------------------------- the profile


@dataclass
class PatientProfile:
    """One enrolment's profile as plain values (formatting is :mod:`.cells`' job).

    ``scores``: one row per :data:`~.definitions.SCORES` (column, value, category and the
    reference summary: reference_n, reference_shown, percentile, q1, median, q3).
    ``events``: the timeline (date, event, detail, planned). ``followups``: the audit rows of
    the patient. ``changes``: one row per answered follow-up (first answer) and score.
    ``pgic``: one row per answered follow-up. ``series``: the figure's points. ``caveats``:
    Norwegian sentences.
    """

    patient_id: str
    enrolment_id: str
    as_of: pd.Timestamp
    sex: str | None
    age: float | None
    age_band: str | None
    unit: str | None
    diagnosis: str | None
    granted_date: pd.Timestamp | None
    first_consultation_date: pd.Timestamp | None
    closed_date: pd.Timestamp | None
    reference_year: int
    baseline: dict | None
    scores: pd.DataFrame
    background: list[tuple[str, str]]
    eq5d_levels: list[tuple[str, str]]
    events: pd.DataFrame
    followups: pd.DataFrame
    changes: pd.DataFrame
    pgic: pd.DataFrame
    series: pd.DataFrame
    treatments: pd.DataFrame
    caveats: list[str]


def _value(row, column):
    v = row.get(column) if row is not None else None
    return None if v is None or pd.isna(v) else v


def _date(v) -> pd.Timestamp | None:
    return None if v is None or pd.isna(v) else pd.Timestamp(v).normalize()


def _choose_baseline(ctx: ProfileContext, enrolment_id: str, first_consultation) -> pd.Series | None:
    b = ctx.baselines[ctx.baselines["enrolment_id"].astype(object) == enrolment_id]
    if b.empty:
        return None
    b = b.sort_values(["submitted_at", "response_id"], kind="stable")
    if first_consultation is None:
        return b.iloc[-1]
    before = b[b["submitted_date"] <= first_consultation]
    return before.iloc[-1] if len(before) else b.iloc[0]


def _reference(ctx: ProfileContext, key: tuple, build) -> pd.DataFrame:
    if key not in ctx._references:
        ctx._references[key] = build()
    return ctx._references[key]


def baseline_reference(ctx: ProfileContext, patient_id: str, sex, band, year: int) -> pd.DataFrame:
    """The baseline reference group of :mod:`.reference` (one row per patient)."""

    def build():
        b = ctx.baselines
        rows = b[(b["year"] < year) & (b["sex"] == sex) & (b["age_band"] == band)]
        return latest_per_patient(rows, "submitted_at")

    group = _reference(ctx, ("baseline", sex, band, year), build)
    return group[group["patient_id"].astype(str) != patient_id]


def followup_reference(ctx: ProfileContext, patient_id: str, kind: str, sex, band, year: int) -> pd.DataFrame:
    """The follow-up reference group of kind ``kind`` (:mod:`.reference`; one row per patient)."""

    def build():
        f = ctx.followups
        rows = f[f["first_answer"] & (f["kind"] == kind) & (f["year"] < year) & (f["sex"] == sex)]
        rows = rows[rows["age_band"] == band]
        return latest_per_patient(rows, "responded_at")

    group = _reference(ctx, ("followup", kind, sex, band, year), build)
    return group[group["patient_id"].astype(str) != patient_id]


def _score_rows(ctx, base, patient_id, sex, band, year) -> pd.DataFrame:
    ref = baseline_reference(ctx, patient_id, sex, band, year) if base is not None else None
    rows = []
    for s in SCORES:
        value = _value(base, s.column)
        summary = reference_summary(ref[s.column] if ref is not None else pd.Series(dtype=float), value)
        rows.append(
            {
                "column": s.column,
                "label": s.label,
                "value": value,
                "category": baseline_category(s.column, base) if base is not None else None,
                "reference_n": summary["n"],
                "reference_shown": summary["shown"],
                "percentile": summary["percentile"] if value is not None else float("nan"),
                "q1": summary["q1"],
                "median": summary["median"],
                "q3": summary["q3"],
            }
        )
    return pd.DataFrame(rows)


def _answers(reg, table: str, id_column: str, response_id) -> dict[str, float]:
    a = reg.tables.get(table)
    if a is None or a.empty or response_id is None:
        return {}
    mine = a[a[id_column].astype(str) == str(response_id)]
    return dict(zip(mine["item"].astype(str), pd.to_numeric(mine["value"], errors="coerce").astype(float)))


def _code_label(item: str, value) -> str | None:
    if value is None or pd.isna(value):
        return None
    codes = codebook.load().items[item].codes
    return codes.get(int(value), str(value))


def _background(answers: dict[str, float]) -> list[tuple[str, str]]:
    items = codebook.load().items
    out = []
    for code in DEMOGRAPHICS:
        label = _code_label(code, answers.get(code))
        if label is not None:
            out.append((items[code].label, label))
    places = [items[c].label.removeprefix("Smerte i ") for c in items if c.startswith("loc_") and answers.get(c) == 1]
    if places:
        out.append(("Smertelokalisering", ", ".join(places)))
    return out


def _eq5d_levels(answers: dict[str, float]) -> list[tuple[str, str]]:
    from ..stats.scoring import EQ5D_DIMENSIONS

    items = codebook.load().items
    return [(items[d].label, _code_label(d, answers.get(d)) or "ikke besvart") for d in EQ5D_DIMENSIONS]


def missing_item_notes(answers: dict[str, float], scores, instruments=None) -> list[str]:
    """One phrase per instrument with unanswered items: how many were answered, whether the
    scoring module scored it (``scores``: the response's score row) and the rule that applied.

    ``instruments`` limits the check (a short follow-up form asks only EQ-5D-5L and PGIC).
    """
    cb = codebook.load()
    notes = []
    for name, (_, rule) in item_rules().items():
        if instruments is not None and name not in instruments:
            continue
        short = INSTRUMENT_NAMES[name]
        items = [c for c in cb.instruments[name].items if c != "eq5d_vas"]
        answered = [c for c in items if not pd.isna(answers.get(c, float("nan")))]
        if name == "eq5d5l" and pd.isna(answers.get("eq5d_vas", float("nan"))):
            notes.append("EQ VAS ikke besvart")
        if len(answered) == len(items):
            continue
        if not answered:
            notes.append(f"{short} ikke besvart")
        elif name == "nrs":
            missing = " og ".join(cb.items[c].label.lower() for c in items if c not in answered)
            notes.append(f"{short}: {missing} ikke besvart")
        else:
            scored = _value(scores, INSTRUMENT_SCORE[name]) is not None
            verdict = "skåret" if scored else "ikke skåret"
            notes.append(f"{short} {len(answered)} av {len(items)} besvart, {verdict} ({rule})")
    return notes


def _kind_label(kind: str) -> str:
    return str(codebook.load().column("followups", "kind").codes.get(kind, kind))


_STATUS = {
    "sendt": "sendt",
    "sendt_ikke_skyldig": "sendt (ikke skyldig)",
    "ikke_sendt": "skyldig, ikke sendt",
}


def followup_status(row: pd.Series) -> str:
    """One audit row of :func:`~opr_analysis.stats.followup.followup_audit` in words."""
    from ..stats.followup import EXCLUSIONS

    if row["sent"]:
        sent = f"{_STATUS.get(str(row['status']), 'sendt')} {pd.Timestamp(row['sent_date']):%d.%m.%Y}"
        if row["responded"]:
            return f"{sent}, besvart {pd.Timestamp(row['responded_at']):%d.%m.%Y}"
        if row["awaiting"]:
            return f"{sent}, venter på svar"
        return f"{sent}, ikke besvart"
    if row["owed"]:
        return "skyldig, ikke sendt"
    exclusion = row["exclusion"]
    if exclusion == "ikke_forfalt":
        return "planlagt"
    reasons = "; ".join(EXCLUSIONS[x] for x in str(row["exclusions"]).split(";") if x in EXCLUSIONS)
    return f"ikke skyldig ({reasons})" if reasons else "ikke skyldig"


def _events(ctx, patient_id, patient, enrolments, treatments, audit, short_forms, baselines) -> pd.DataFrame:
    reg, as_of = ctx.reg, ctx.as_of
    cb = codebook.load()
    rows = []
    for _, e in enrolments.iterrows():
        rows.append((_day_of(e["granted_date"]), "Rett til helsehjelp", f"innskriving {e['enrolment_id']}", False))
        fc = _date(e["first_consultation_date"])
        if fc is not None:
            rows.append((fc, "Førstekonsultasjon", f"innskriving {e['enrolment_id']}", fc > as_of))
        closed = _date(e["closed_date"])
        if closed is not None and closed <= as_of:
            rows.append((closed, "Avsluttet i registeret", f"innskriving {e['enrolment_id']}", False))
    for _, b in baselines.iterrows():
        rows.append((_day_of(b["submitted_at"]), "Baselineskjema besvart", "fullt skjema", False))
    reasons = cb.column("short_forms", "reason").codes
    for _, s in short_forms.iterrows():
        reason = reasons.get(s["reason"], "annet") if pd.notna(s["reason"]) else "årsak ikke oppgitt"
        rows.append((_day_of(s["date"]), "Kortversjon av baseline", str(reason), False))
    kinds = cb.column("treatments", "kind").codes
    for _, t in treatments.iterrows():
        rows.append(
            (_day_of(t["date"]), str(kinds.get(t["kind"], t["kind"])), f"behandling {t['treatment_id']}", False)
        )
    for _, a in audit.iterrows():
        when = a["sent_date"] if a["sent"] else a["due_date"]
        detail = followup_status(a)
        rows.append((_day_of(when), f"Oppfølging {_kind_label(a['kind'])}", detail, detail == "planlagt"))
    rows += _implant_events(reg, patient_id, as_of)
    reserved = _date(patient.get("reserved_date"))
    for when in [reserved, *_reservations(reg, patient_id)]:
        if when is not None and when <= as_of:
            rows.append((when, "Reservert mot flere spørreskjemaer", "", False))
    events = pd.DataFrame(rows, columns=["date", "event", "detail", "planned"])
    return events.sort_values(["date"], kind="stable").reset_index(drop=True)


def _day_of(v) -> pd.Timestamp:
    return pd.Timestamp(v).normalize()


def _reservations(reg, patient_id) -> list[pd.Timestamp]:
    r = reg.tables.get("rights_requests")
    if r is None or r.empty:
        return []
    mine = r[(r["patient_id"].astype(str) == patient_id) & (r["kind"].astype("string") == "reservasjon")]
    return [d for d in (_date(v) for v in mine["effective_date"]) if d is not None]


def _implant_events(reg, patient_id, as_of) -> list[tuple]:
    """The patient's implants (contract v1.2 ``implants``, if the extract has it): implanted and explanted."""
    imp = reg.tables.get("implants")
    if imp is None or imp.empty:
        return []
    cb = codebook.load()
    spec = cb.tables.get("implants")

    def label(column, value):
        if value is None or pd.isna(value):
            return None
        codes = spec.columns[column].codes if spec is not None and column in spec.columns else {}
        return str(codes.get(value, value))

    rows = []
    for _, r in imp[imp["patient_id"].astype(str) == patient_id].iterrows():
        what = " ".join(str(r[c]) for c in ("manufacturer", "model") if c in r and pd.notna(r[c]))
        serial = f", serienr. {r['serial_number']}" if "serial_number" in r and pd.notna(r["serial_number"]) else ""
        component = label("component", r.get("component")) or "implantat"
        implanted = _date(r.get("implanted_date"))
        if implanted is not None and implanted <= as_of:
            rows.append((implanted, f"Implantert: {component}", f"{what}{serial}".strip(", "), False))
        explanted = _date(r.get("explanted_date"))
        if explanted is not None and explanted <= as_of:
            reason = label("explant_reason", r.get("explant_reason"))
            reason = reason[:1].lower() + reason[1:] if reason else reason  # mid-line after the dash
            rows.append((explanted, f"Eksplantert: {component}", f"{what}{' – ' + reason if reason else ''}", False))
    return rows


def _changes(ctx, patient_id: str) -> pd.DataFrame:
    p = ctx.paired
    mine = p[(p["patient_id"].astype(str) == patient_id) & p["first_answer"]].sort_values("responded_at")
    rows = []
    for _, r in mine.iterrows():
        for s in SCORES:
            before, after = r[f"{s.column}_baseline"], r[f"{s.column}_followup"]
            mcid = mcid_reached(s.column, pd.Series([before]), pd.Series([after])).iloc[0]
            rows.append(
                {
                    "followup_id": r["followup_id"],
                    "kind": r["kind"],
                    "episode_id": r["episode_id"],
                    "responded_date": _day_of(r["responded_at"]),
                    "paired": bool(r["paired"]),
                    "baseline_date": _date(r["baseline_date"]),
                    "column": s.column,
                    "baseline": None if pd.isna(before) else float(before),
                    "followup": None if pd.isna(after) else float(after),
                    "change": None if pd.isna(r[f"{s.column}_change"]) else float(r[f"{s.column}_change"]),
                    "mcid": None if pd.isna(mcid) else bool(mcid),
                }
            )
    cols = ["followup_id", "kind", "episode_id", "responded_date", "paired", "baseline_date", "column", "baseline",
            "followup", "change", "mcid"]  # fmt: skip
    return pd.DataFrame(rows, columns=cols)


def _pgic(ctx, patient_id: str) -> pd.DataFrame:
    p = ctx.paired
    mine = p[(p["patient_id"].astype(str) == patient_id) & p["first_answer"]].sort_values("responded_at")
    return pd.DataFrame(
        {
            "followup_id": mine["followup_id"].astype(str).to_numpy(),
            "kind": mine["kind"].astype(str).to_numpy(),
            "responded_date": day(mine["responded_at"]).to_numpy(),
            "pgic": mine["pgic"].to_numpy(dtype=float),
            "label": [_code_label("pgic", v) for v in mine["pgic"]],
            "improved": [None if pd.isna(v) else bool(v) for v in mine["pgic_improved"]],
        }
    )


def _series(ctx, patient_id, base_rows, sex, band, year) -> pd.DataFrame:
    """The figure's points: the patient's baselines and answered follow-ups with the reference band."""
    rows = []
    if sex is not None and band is not None:
        ref_base = baseline_reference(ctx, patient_id, sex, band, year)
    else:
        ref_base = None
    for _, b in base_rows.iterrows():
        for s in SCORES:
            summary = reference_summary(ref_base[s.column] if ref_base is not None else pd.Series(dtype=float))
            rows.append(("Baseline", "baseline", _day_of(b["submitted_at"]), s.column, b[s.column], summary))
    f = ctx.followups
    mine = f[(f["patient_id"].astype(str) == patient_id) & f["first_answer"]].sort_values("responded_at")
    for _, r in mine.iterrows():
        ref = followup_reference(ctx, patient_id, r["kind"], sex, band, year) if band is not None else None
        for s in SCORES:
            summary = reference_summary(ref[s.column] if ref is not None else pd.Series(dtype=float))
            rows.append(
                (
                    short_kind_label(r["kind"]),
                    str(r["kind"]),
                    _day_of(r["responded_at"]),
                    s.column,
                    r[s.column],
                    summary,
                )
            )
    out = pd.DataFrame(
        [
            {
                "point": point,
                "kind": kind,
                "date": when,
                "column": col,
                "value": None if pd.isna(v) else float(v),
                "reference_n": summ["n"],
                "q1": summ["q1"],
                "median": summ["median"],
                "q3": summ["q3"],
            }
            for point, kind, when, col, v, summ in rows
        ],
        columns=["point", "kind", "date", "column", "value", "reference_n", "q1", "median", "q3"],
    )
    return out


def _caveats(ctx, patient, enr, base, base_answers, short_forms, audit_rows, patient_id) -> list[str]:
    out = []
    fc = _date(enr["first_consultation_date"])
    if base is None:
        out.append("Ingen fullstendig baseline er besvart for denne innskrivingen; skårene og persentilene mangler.")
    elif fc is not None and _day_of(base["submitted_at"]) > fc:
        days = (_day_of(base["submitted_at"]) - fc).days
        out.append(
            f"Baseline ble besvart {_day_of(base['submitted_at']):%d.%m.%Y}, {days} dager etter førstekonsultasjonen "
            f"({fc:%d.%m.%Y}); skårene beskriver ikke nødvendigvis tilstanden før første møte."
        )
    if len(short_forms):
        dates = ", ".join(f"{_day_of(d):%d.%m.%Y}" for d in short_forms["date"])
        out.append(
            f"Pasienten fikk kortversjonen av baselineskjemaet på poliklinikken ({dates}); kortversjonens svar "
            "finnes ikke i registeruttrekket."
        )
    notes = missing_item_notes(base_answers, base) if base is not None else []
    if notes:
        out.append(f"Baseline ({_day_of(base['submitted_at']):%d.%m.%Y}): " + "; ".join(notes) + ".")
    for _, a in audit_rows.iterrows():
        if a["sent"] and a["responded"] and str(a.get("variant", "full")) == "kort":
            out.append(f"Oppfølging {_kind_label(a['kind'])}: kort skjema (bare EQ-5D og PGIC).")
    reserved = [d for d in [_date(patient.get("reserved_date")), *_reservations(ctx.reg, patient_id)] if d is not None]
    if reserved and min(reserved) <= ctx.as_of:
        out.append(
            f"Pasienten har reservert seg mot flere spørreskjemaer fra {min(reserved):%d.%m.%Y}; profilen viser det "
            "pasienten svarte før det."
        )
    return out


def _followup_caveats(ctx, patient_id, changes: pd.DataFrame) -> list[str]:
    out = []
    f = ctx.followups
    mine = f[f["patient_id"].astype(str) == patient_id].sort_values("responded_at")
    for _, r in mine.iterrows():
        when = f"{_day_of(r['responded_at']):%d.%m.%Y}"
        if not r["first_answer"]:
            out.append(
                f"Oppfølging {_kind_label(r['kind'])} ble besvart mer enn én gang; bare første svar er brukt "
                f"(dette: {when})."
            )
            continue
        answers = _answers(ctx.reg, "followup_answers", "followup_id", r["followup_id"])
        variant = _variant(ctx.reg, r["followup_id"])
        keep = SHORT_FOLLOWUP_INSTRUMENTS if variant == "kort" else None
        notes = missing_item_notes(answers, r, keep)
        if notes:
            out.append(f"Oppfølging {_kind_label(r['kind'])} ({when}): " + "; ".join(notes) + ".")
    unpaired = changes.drop_duplicates("followup_id")
    for _, c in unpaired[~unpaired["paired"]].iterrows():
        out.append(
            f"Oppfølging {_kind_label(c['kind'])} ({c['responded_date']:%d.%m.%Y}) har ingen baseline å sammenligne "
            "med; endring er ikke regnet ut."
        )
    return out


def _variant(reg, followup_id) -> str:
    f = reg.followups
    if "variant" not in f:
        return "full"
    v = f.loc[f["followup_id"].astype(str) == str(followup_id), "variant"]
    return "full" if v.empty or pd.isna(v.iloc[0]) else str(v.iloc[0])


def patient_profile(ctx: ProfileContext, enrolment_id: str) -> PatientProfile:
    """The profile of enrolment ``enrolment_id`` (module docstring). Raises
    :class:`ErasedPatientError` for an erased patient, :class:`UsageError` for an unknown enrolment."""
    reg, as_of = ctx.reg, ctx.as_of
    e = reg.enrolments
    hit = e[e["enrolment_id"].astype(str) == str(enrolment_id)]
    if hit.empty:
        gone = erased_enrolments(reg, ctx.erased)
        mine = gone[gone["enrolment_id"].astype(str) == str(enrolment_id)]
        if len(mine):
            _check_patient(ctx, str(mine["patient_id"].iloc[0]))
        raise UsageError(f"innskriving «{enrolment_id}» finnes ikke i uttrekket (tabellen enrolments)")
    enr = hit.iloc[0]
    patient_id = str(enr["patient_id"])
    _check_patient(ctx, patient_id)
    pats = reg.patients
    patient = pats[pats["patient_id"].astype(str) == patient_id].iloc[0]
    sex = None if pd.isna(patient["sex"]) else str(patient["sex"])
    fc = _date(enr["first_consultation_date"])
    granted = _date(enr["granted_date"])
    at = fc or granted
    age = age_at(pd.Series([at]), pd.Series([patient["birth_year"]])).iloc[0]
    age = None if pd.isna(age) else float(age)
    base = _choose_baseline(ctx, str(enrolment_id), fc)
    base_dict = None if base is None else base.to_dict()
    band = age_band(pd.Series([base["age"] if base is not None else age])).iloc[0]
    year = int(_day_of(base["submitted_at"]).year) if base is not None else int(at.year)
    base_answers = _answers(reg, "baseline_answers", "response_id", None if base is None else base["response_id"])

    mine = e[(e["patient_id"].astype(str) == patient_id) & (e["granted_date"] <= as_of)]
    mine = mine.sort_values(["granted_date", "enrolment_id"], kind="stable")
    t = reg.treatments
    treatments = t[(t["patient_id"].astype(str) == patient_id) & (t["date"] <= as_of)].sort_values("date")
    sf = reg.short_forms
    short_all = sf[(sf["patient_id"].astype(str) == patient_id) & (sf["date"] <= as_of)]
    short_links = enrolment_of(e, short_all["patient_id"], short_all["date"])
    short_here = short_all[(short_links.astype(object) == str(enrolment_id)).to_numpy()]
    audit = ctx.audit[(ctx.audit["patient_id"].astype(str) == patient_id) & (ctx.audit["anchor_date"] <= as_of)]
    if "variant" in reg.followups:
        variants = reg.followups.set_index(reg.followups["followup_id"].astype(str))["variant"]
        audit = audit.assign(variant=audit["followup_id"].astype(object).map(variants).fillna("full").to_numpy())
    base_rows = ctx.baselines[ctx.baselines["patient_id"].astype(str) == patient_id].sort_values("submitted_at")
    changes = _changes(ctx, patient_id)
    unit = None
    if has_units(reg):
        units = unit_table(reg).set_index("unit_id")["name"]
        unit = str(units.get(row_units(reg, "enrolments").loc[hit.index[0]], ""))
    diagnosis = str(enr["diagnosis"]) if "diagnosis" in enr and pd.notna(enr["diagnosis"]) else None

    caveats = _caveats(ctx, patient, enr, base, base_answers, short_here, audit, patient_id)
    caveats += _followup_caveats(ctx, patient_id, changes)
    return PatientProfile(
        patient_id=patient_id,
        enrolment_id=str(enrolment_id),
        as_of=as_of,
        sex=sex,
        age=age,
        age_band=band,
        unit=unit,
        diagnosis=diagnosis,
        granted_date=granted,
        first_consultation_date=fc,
        closed_date=_date(enr["closed_date"])
        if _date(enr["closed_date"]) and _date(enr["closed_date"]) <= as_of
        else None,
        reference_year=year,
        baseline=base_dict,
        scores=_score_rows(ctx, base, patient_id, sex, band, year),
        background=_background(base_answers),
        eq5d_levels=_eq5d_levels(base_answers) if base is not None else [],
        events=_events(ctx, patient_id, patient, mine, treatments, audit, short_all, base_rows),
        followups=audit.reset_index(drop=True),
        changes=changes,
        pgic=_pgic(ctx, patient_id),
        series=_series(ctx, patient_id, base_rows, sex, band, year),
        treatments=treatments.reset_index(drop=True),
        caveats=caveats,
    )
