"""Planning an experiment: how many patients, and how many months of follow-up flow.

Rules:

- The unit is a patient, as in the analysis (:mod:`.analyse`): each randomised
  patient gives one outcome, whether their first owed follow-up of a chosen
  kind in the window was answered within ``answered_within_days`` of sending
  (one never sent counts as not answered, as in the intention-to-treat analysis).
- The expected share in the ``full`` arm is the spec's ``baseline_share``, or
  else the audit's share for the chosen kinds in the ``recent_years`` complete
  calendar years before the as-of date (:func:`recent_flow`): owed follow-ups
  settled at the as-of date (:func:`opr_analysis.stats.followup.settled_at`
  with the outcome's days, so a recent send is not counted as unanswered),
  answered within the days. Every owed follow-up counts here, not only each
  patient's first; the two shares differ little, and this one rests on more data.
- Sample size: statsmodels' ``NormalIndPower`` on Cohen's *h*
  (``proportion_effectsize``) for ``full`` share *p* against *p* + minimal
  difference, two-sided, with the spec's α, power and allocation ratio: the
  number of patients per arm.
- New patients per month: the recent years are cut into consecutive periods of
  the window's length (``window_months``); in each, every patient with an owed
  follow-up of the chosen kinds due in it counts once, in the month of the
  first such follow-up (as a window of that length would recruit them). Months
  needed = total patients ÷ new patients per month (rounded up). A longer
  window than this recruits fewer patients per month (more of them have been
  counted already), so the months are a lower bound when they exceed the window.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import pandas as pd

from ..formatting import fmt_int, fmt_num, fmt_pct
from ..safety.markup import escape
from .spec import ExperimentSpec


@dataclass(frozen=True)
class SampleSize:
    """Follow-ups needed per arm for a difference between two proportions."""

    p_full: float
    p_kort: float
    effect_size: float  # Cohen's h
    n_full: int
    n_kort: int

    @property
    def total(self) -> int:
        return self.n_full + self.n_kort


def sample_size(p_full: float, difference: float, alpha: float, power: float, ratio: dict[str, int]) -> SampleSize:
    """Follow-ups per arm to detect ``difference`` (kort − full) with ``power`` at two-sided ``alpha``.

    >>> s = sample_size(0.35, 0.10, 0.05, 0.8, {"full": 1, "kort": 1})
    >>> s.n_full, s.n_kort
    (376, 376)
    """
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize

    p_kort = p_full + difference
    h = float(proportion_effectsize(p_kort, p_full))
    k = ratio["kort"] / ratio["full"]
    n1 = NormalIndPower().solve_power(effect_size=h, alpha=alpha, power=power, ratio=k, alternative="two-sided")
    n_full = math.ceil(float(n1) - 1e-9)
    return SampleSize(p_full, p_kort, h, n_full, math.ceil(n_full * k - 1e-9))


def owed_units(audit: pd.DataFrame, spec: ExperimentSpec) -> pd.DataFrame:
    """The owed follow-ups of the chosen kinds (one row each) with the primary outcome ``answered``.

    ``answered``: sent for this owed follow-up (``sent_owed``) and answered on or
    before ``answered_within_days`` days after the sent date (calendar days).
    """
    first = ~audit.duplicated(["anchor_id", "kind"])
    rows = audit[audit["owed"] & first & audit["kind"].isin(list(spec.kinds))].copy()
    # the sent row of an owed follow-up is the first one; the sent row carries sent_owed
    sent = audit[audit["sent_owed"]].drop_duplicates(["anchor_id", "kind"])
    key = ["anchor_id", "kind"]
    rows = rows.drop(columns=["followup_id", "sent_date", "responded_at", "sent_owed"]).merge(
        sent[[*key, "followup_id", "sent_date", "responded_at", "sent_owed"]], on=key, how="left"
    )
    rows["sent_owed"] = rows["sent_owed"].astype("boolean").fillna(False).astype(bool)
    days = (rows["responded_at"].dt.normalize() - rows["sent_date"]).dt.days
    rows["days_to_answer"] = days.astype("Float64")
    rows["answered"] = (rows["sent_owed"] & (days <= spec.answered_within_days)).fillna(False).astype(bool)
    return rows.reset_index(drop=True)


def recent_flow(reg, spec: ExperimentSpec, as_of) -> pd.DataFrame:
    """Owed follow-ups of the chosen kinds per due month in the recent complete years (module docstring).

    Columns: month (``YYYY-MM``), owed and answered (settled owed follow-ups; the
    primary outcome), patients (new patients a window of the spec's length would
    recruit that month), one row per month of the years ``as_of.year - recent_years`` …
    ``as_of.year - 1``.
    """
    from ..stats.followup import followup_audit, settled_at

    as_of = pd.Timestamp(as_of).normalize()
    years = range(as_of.year - spec.recent_years, as_of.year)
    units = owed_units(followup_audit(reg, as_of), spec)
    units = units[units["due_date"].dt.year.isin(list(years))]
    units = units[settled_at(units["due_date"], units["sent_date"], as_of, spec.answered_within_days)]
    months = pd.period_range(f"{years[0]}-01", f"{years[-1]}-12", freq="M")
    month = units["due_date"].dt.to_period("M")
    by = units.groupby(month)
    out = pd.DataFrame({"owed": by.size(), "answered": by["answered"].sum()}).reindex(months, fill_value=0)
    # each patient once per window-length period, in the month of their first owed follow-up in it
    period = (month.dt.year - years[0]) * 12 + month.dt.month - 1
    block = period // spec.window_months
    first = units.assign(_m=month, _b=block).sort_values("due_date").drop_duplicates(["patient_id", "_b"])
    out["patients"] = first.groupby("_m").size().reindex(months, fill_value=0)
    out = out.astype("int64").rename_axis("month").reset_index()
    out["month"] = out["month"].astype(str)
    return out


@dataclass(frozen=True)
class Plan:
    """What ``opr experiment plan`` reports."""

    experiment_id: str
    as_of: str
    years: str
    baseline_source: str  # "spec" | "audit"
    size: SampleSize
    owed_per_month: float
    patients_per_month: float
    months_needed: int | None
    window_months: int
    flow: pd.DataFrame

    def as_dict(self) -> dict:
        d = {k: v for k, v in asdict(self).items() if k not in ("flow", "size")}
        return {**d, "size": {**asdict(self.size), "total": self.size.total}, "flow": self.flow.to_dict("records")}


def make_plan(spec: ExperimentSpec, reg, as_of) -> Plan:
    """Sample size and months needed for ``spec`` on the flow of the extract ``reg``."""
    from ..errors import UsageError

    as_of = pd.Timestamp(as_of).normalize()
    flow = recent_flow(reg, spec, as_of)
    owed, answered = int(flow["owed"].sum()), int(flow["answered"].sum())
    if spec.baseline_share is not None:
        p, source = spec.baseline_share, "spec"
    elif owed:
        p, source = answered / owed, "audit"
    else:
        raise UsageError(
            f"uttrekket har ingen skyldige oppfølginger av typene {', '.join(spec.kinds)} i årene "
            f"{flow['month'].iloc[0][:4]}–{flow['month'].iloc[-1][:4]}; oppgi baseline_share i spesifikasjonen"
        )
    if p + spec.minimal_difference >= 1:
        raise UsageError(f"forventet svarandel {p:.3f} + minimal_difference er 1 eller mer; velg en mindre forskjell")
    size = sample_size(p, spec.minimal_difference, spec.alpha, spec.power, spec.ratio)
    per_month = owed / len(flow) if len(flow) else 0.0
    patients = int(flow["patients"].sum()) / len(flow) if len(flow) else 0.0
    months = math.ceil(size.total / patients - 1e-9) if patients else None
    return Plan(
        experiment_id=spec.id,
        as_of=as_of.date().isoformat(),
        years=f"{flow['month'].iloc[0][:4]}–{flow['month'].iloc[-1][:4]}",
        baseline_source=source,
        size=size,
        owed_per_month=per_month,
        patients_per_month=patients,
        months_needed=months,
        window_months=spec.window_months,
        flow=flow,
    )


def plan_markdown(plan: Plan, spec: ExperimentSpec) -> str:
    """The plan as a short Norwegian report (Markdown)."""
    s = plan.size
    source = (
        "oppgitt i spesifikasjonen"
        if plan.baseline_source == "spec"
        else f"andelen skyldige oppfølginger av disse typene som ble besvart innen "
        f"{spec.answered_within_days} dager i {plan.years}"
    )
    ratio = f"{spec.ratio['full']}:{spec.ratio['kort']}"
    lines = [
        f"# Plan for eksperimentet {escape(spec.id)}",
        "",
        f"**Spørsmål:** {escape(spec.question)}",
        "",
        f"- Forventet svarandel med fullt skjema: {fmt_pct(s.p_full)} ({source}).",
        f"- Minste forskjell som er verdt å oppdage: {fmt_num(100 * spec.minimal_difference)} prosentpoeng "
        f"(kort skjema {fmt_pct(s.p_kort)}); Cohens h = {fmt_num(s.effect_size, 3)}.",
        f"- Styrke {fmt_pct(spec.power, 0)}, signifikansnivå {fmt_num(spec.alpha, 2)} (tosidig), "
        f"fordeling full:kort = {ratio}.",
        f"- Nødvendig antall pasienter (én oppfølging hver: den første skyldige i vinduet): {fmt_int(s.n_full)} "
        f"med fullt skjema og {fmt_int(s.n_kort)} med kort skjema, til sammen {fmt_int(s.total)}.",
        f"- Nye pasienter med skyldig oppfølging av typene {', '.join(spec.kinds)} per måned i {plan.years}, "
        f"regnet for et vindu på {fmt_int(plan.window_months)} måneder: {fmt_num(plan.patients_per_month)} "
        f"({fmt_num(plan.owed_per_month)} skyldige oppfølginger per måned).",
    ]
    if plan.months_needed is None:
        lines.append(
            "- Uttrekket har ingen skyldige oppfølginger av disse typene i årene; antall måneder kan ikke anslås."
        )
    else:
        verdict = (
            "Vinduet er langt nok."
            if plan.months_needed <= plan.window_months
            else "Vinduet er for kort: forleng det, ta med flere typer oppfølging eller velg en større forskjell."
        )
        lines.append(
            f"- Det trengs omtrent {fmt_int(plan.months_needed)} måneder med nye pasienter; vinduet "
            f"({spec.window[0]:%d.%m.%Y}–{spec.window[1]:%d.%m.%Y}) dekker {fmt_int(plan.window_months)}. {verdict}"
        )
    lines += [
        "",
        "Beregningen regner hver pasient én gang, slik analysen gjør: pasienten ble randomisert, og utfallet er den "
        "første skyldige oppfølgingen i vinduet. Et lengre vindu enn det forsøket har, gir færre nye pasienter per "
        "måned, så når det trengs flere måneder enn vinduet dekker, er antallet måneder et minimum.",
        "",
    ]
    return "\n".join(lines).replace("\u00a0", " ")
