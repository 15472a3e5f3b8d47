"""Statistics of the annual report (issue 3): one function per table, each a tidy DataFrame."""

from .baseline import baseline_links, baseline_response, baseline_response_patient_level, legacy_baseline_response
from .completion import completion_time, format_hms
from .followup import EXCLUSIONS, STATUSES, followup_audit, followup_candidates, followup_response
from .quality import (
    quality_baseline_after_consultation,
    quality_closed_in_dips,
    quality_closed_in_dips_list,
    quality_missing,
    quality_multiple_baselines,
    quality_multiple_enrolments,
    quality_tables,
)
from .referrals import referrals_assessed, referrals_by_region
from .shares import add_share, aggregate_share, wilson_interval, year_range
from .short_forms import short_form_reasons
from .tables import CONTRACT_COLUMNS, check_contract_columns, extra_tables, report_tables, write_tables
from .trends import trend_test, trend_tests

__all__ = [
    "CONTRACT_COLUMNS", "EXCLUSIONS", "STATUSES", "add_share", "aggregate_share", "baseline_links",
    "baseline_response", "baseline_response_patient_level", "check_contract_columns", "completion_time",
    "extra_tables", "followup_audit", "followup_candidates", "followup_response", "format_hms",
    "legacy_baseline_response", "quality_baseline_after_consultation", "quality_closed_in_dips",
    "quality_closed_in_dips_list", "quality_missing", "quality_multiple_baselines",
    "quality_multiple_enrolments", "quality_tables", "referrals_assessed", "referrals_by_region",
    "report_tables", "short_form_reasons", "trend_test", "trend_tests", "wilson_interval", "write_tables",
    "year_range",
]  # fmt: skip
