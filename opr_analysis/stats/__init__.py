"""Statistics of the annual report (issue 3): one function per table, each a tidy DataFrame."""
# ruff: noqa: F401  (re-exports; __all__ comes from opr_analysis._public so the package can list them lazily)

from .._public import STATS_NAMES
from .baseline import baseline_links, baseline_response, baseline_response_patient_level, legacy_baseline_response
from .completion import completion_time, format_hms
from .followup import EXCLUSIONS, STATUSES, followup_audit, followup_candidates, followup_response, followup_totals
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

__all__ = list(STATS_NAMES)
