"""The table registry: every published table of the annual report, one entry each.

An entry (:class:`Table`) names the table (its CSV file stem and its key in the
report notebook's ``tables``), the function that computes it, the contract's
leading columns for the seven tables of the data contract (``None`` for extra
tables), and the table of the 2023 annual report it reproduces. From
:data:`TABLES` everything else is derived:

- ``opr tables`` and :func:`opr_analysis.stats.export.write_tables` (which files, in which order);
- the report notebook's data (:func:`opr_analysis.stats.export.compute_tables`);
- the public names of :mod:`opr_analysis.stats` and :mod:`opr_analysis` (:func:`public_names`);
- ``docs/tables.md`` (:func:`tables_markdown`, ``make docs``).

Adding a statistic is one function in a ``stats`` module plus one entry here
(plus its report cell and its test). ``tests/test_stats_table_registry.py``
fails when a public function of a statistics module is neither registered nor
listed in :data:`HELPERS`.

The module imports nothing heavy, so ``import opr_analysis`` can list the public
names without loading pandas.

Examples
--------
>>> from opr_analysis.stats.table_registry import get
>>> get("referrals_assessed").seed
'tabell 10'
>>> get("referrals_assessed").contract[:2]
('year', 'assessed')
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Table:
    """One published table.

    ``function`` is ``"module.name"`` inside :mod:`opr_analysis.stats` (so the
    registry stays importable without pandas) or a callable. It is called as
    ``function(reg)``, with ``as_of=`` when ``as_of`` is true, or, when
    ``source`` names another table, as ``function(tables[source])``.
    """

    name: str
    function: str | Callable
    description: str
    contract: tuple[str, ...] | None = None
    seed: str | None = None
    as_of: bool = False
    source: str | None = None

    @property
    def function_name(self) -> str:
        return self.function.rsplit(".", 1)[-1] if isinstance(self.function, str) else self.function.__name__

    def resolve(self) -> Callable:
        """The computing function, imported on first use."""
        if callable(self.function):
            return self.function
        module, name = self.function.rsplit(".", 1)
        return getattr(importlib.import_module(f"{__package__}.{module}"), name)


TABLES: list[Table] = [
    Table(
        "referrals_assessed", "referrals.referrals_assessed",
        "Henvisninger vurdert og avvist per år, med andel avvist",
        contract=("year", "assessed", "rejected", "rejected_share"), seed="tabell 10",
    ),
    Table(
        "referrals_by_region", "referrals.referrals_by_region",
        "Henvisninger med rett til helsehjelp og avviste per helseregion",
        contract=("year", "decision", "region", "n", "share"), seed="tabell 11",
    ),
    Table(
        "baseline_response", "baseline.baseline_response",
        "Baselineskjemaer per innskriving (den nye løsningen)",
        contract=("year", "enrolments", "baseline_responses", "response_share"), seed="tabell 12",
    ),
    Table(
        "legacy_baseline_response", "baseline.legacy_baseline_response",
        "Baselinesvar per nye pasienter i OPRv1",
        contract=("year", "baseline_responses", "new_patients", "response_share"), seed="tabell 13",
    ),
    Table(
        "completion_time", "completion.completion_time",
        "Utfyllingstid for baselineskjemaet (min, kvartiler, maks)",
        contract=("period", "n", "min_ms", "q1_ms", "median_ms", "q3_ms", "max_ms"), seed="tabell 14",
    ),
    Table(
        "short_form_reasons", "short_forms.short_form_reasons",
        "Årsaker til kortversjon av baselineskjemaet",
        contract=("year", "reason", "n"), seed="tabell 15",
    ),
    Table(
        "followup_response", "followup.followup_response",
        "Oppfølgingsskjemaer skyldig, sendt og besvart per type og år",
        contract=(
            "year", "kind", "owed", "sent", "sent_owed", "not_sent", "sent_not_owed", "responded", "response_share",
            "responded_owed", "response_share_owed",
        ),
        seed="holdt tilbake i 2023-rapporten", as_of=True,
    ),
    Table(
        "followup_response_totals", "followup.followup_totals",
        "Oppfølgingsskjemaer for alle typer samlet per år", source="followup_response",
    ),
    Table(
        "baseline_response_patient_level", "baseline.baseline_response_patient_level",
        "Andel innskrivinger med minst ett baselinesvar",
    ),
    Table("trend_tests", "trends.trend_tests", "Trendtester for andel avviste og andel med baselinesvar"),
    Table(
        "quality_closed_in_dips", "quality.quality_closed_in_dips",
        "Innskrivinger avsluttet i DIPS, men åpne i registeret",
    ),
    Table(
        "quality_closed_in_dips_list", "quality.quality_closed_in_dips_list",
        "Liste over innskrivinger avsluttet i DIPS, men åpne i registeret",
    ),
    Table("quality_missing", "quality.quality_missing", "Manglende verdier per tabell og kolonne"),
    Table(
        "quality_multiple_enrolments", "quality.quality_multiple_enrolments",
        "Pasienter med mer enn én innskriving",
    ),
    Table(
        "quality_multiple_baselines", "quality.quality_multiple_baselines",
        "Innskrivinger med mer enn ett baselineskjema",
    ),
    Table(
        "quality_baseline_after_consultation", "quality.quality_baseline_after_consultation",
        "Baselineskjemaer uten innskriving de hører til",
    ),
    Table(
        "quality_consultation_before_grant", "quality.quality_consultation_before_grant",
        "Førstekonsultasjon datert før rett til helsehjelp",
    ),
    # --- v1.2 implants (issue 27); empty when the extract has no implant register ---
    Table("implanted_per_year", "implants.implanted_per_year", "Implanterte komponenter per år og komponent"),
    Table(
        "explants_by_reason", "implants.explants_by_reason",
        "Eksplanterte komponenter per år og årsak, med årsakens andel av årets eksplantasjoner",
    ),
    Table(
        "implant_survival", "implants.implant_survival",
        "Implanterte systemer uten uplanlagt eksplantasjon (Kaplan–Meier) per måned etter implantasjon", as_of=True,
    ),
    Table(
        "implant_survival_summary", "implants.implant_survival_summary",
        "Implanterte systemer uten uplanlagt eksplantasjon etter 1 og 2 år", source="implant_survival",
    ),
    # --- end v1.2 implants ---
]  # fmt: skip

#: Public names of :mod:`opr_analysis.stats` that are not table functions: building blocks that
#: notebooks and other statistics use, such as the per-row flags behind a table
#: (name -> module in ``opr_analysis.stats``).
HELPERS: dict[str, str] = {
    "add_share": "shares", "aggregate_share": "shares", "wilson_interval": "shares", "year_range": "shares",
    "quartile_summary": "shares",
    "baseline_links": "baseline", "enrolment_baseline_flags": "baseline", "assessed_referrals": "referrals", "age_at": "derived", "days_between": "derived",
    "EXCLUSIONS": "followup", "STATUSES": "followup", "followup_audit": "followup",
    "followup_candidates": "followup", "followup_kinds": "followup", "response_columns": "followup",
    "foreign_anchor_count": "followup", "series_test": "trends",
    "format_hms": "completion",
    "quality_tables": "quality",
    "trend_test": "trends",
    "CONTRACT_COLUMNS": "export", "check_contract_columns": "export", "compute_tables": "export", "published_tables": "export",
    "extra_tables": "export", "report_tables": "export", "write_tables": "export",
    "implant_systems": "implants", "kaplan_meier": "implants", "month_days": "implants",  # issue 27
}  # fmt: skip


def get(name: str) -> Table:
    """The entry for table ``name`` (KeyError when none is registered)."""
    for table in TABLES:
        if table.name == name:
            return table
    raise KeyError(name)


def register(table: Table) -> Table:
    """Add (or replace) an entry: the run-time hook for a registry's own tables and for tests."""
    unregister(table.name)
    TABLES.append(table)
    return table


def unregister(name: str) -> None:
    """Remove the entry for ``name`` if there is one."""
    TABLES[:] = [t for t in TABLES if t.name != name]


def public_names() -> dict[str, Table | str]:
    """Every public name of :mod:`opr_analysis.stats`: table function name -> its entry, helper -> module."""
    return {**{t.function_name: t for t in TABLES}, **HELPERS}


def tables_markdown() -> str:
    """``docs/tables.md``: the registry as a Markdown table."""
    lines = [
        "# Publiserte tabeller",
        "",
        "Generated from `opr_analysis/stats/table_registry.py` by `make docs`; do not edit by hand.",
        "Every table is written by `opr tables` as `<name>.csv` and shown in the annual report.",
        "",
        "| name | function | contract columns | seed table | description |",
        "|---|---|---|---|---|",
    ]
    for t in TABLES:
        contract = ", ".join(f"`{c}`" for c in t.contract) if t.contract else "extra"
        func = t.function if isinstance(t.function, str) else t.function_name
        lines.append(f"| `{t.name}` | `stats.{func}` | {contract} | {t.seed or ''} | {t.description} |")
    return "\n".join(lines) + "\n"
