"""Public names of opr_analysis.stats, in a module light enough for the package's start-up.

``opr_analysis/__init__.py`` re-exports them lazily without importing the
statistics (and pandas, statsmodels) until one is used.
"""

STATS_NAMES = (
    "CONTRACT_COLUMNS", "EXCLUSIONS", "STATUSES", "add_share", "aggregate_share", "baseline_links",
    "baseline_response", "baseline_response_patient_level", "check_contract_columns", "completion_time",
    "extra_tables", "followup_audit", "followup_candidates", "followup_response", "followup_totals", "format_hms",
    "legacy_baseline_response", "quality_baseline_after_consultation", "quality_closed_in_dips",
    "quality_closed_in_dips_list", "quality_missing", "quality_multiple_baselines",
    "quality_multiple_enrolments", "quality_tables", "referrals_assessed", "referrals_by_region",
    "report_tables", "short_form_reasons", "trend_test", "trend_tests", "wilson_interval", "write_tables",
    "year_range",
)  # fmt: skip
