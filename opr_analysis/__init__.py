"""opr_analysis: analytics and reporting for the OUS pain registry (OPR).

The public names are imported on first use (PEP 562), so that ``opr --help``
and light commands start without loading pandas, statsmodels or plotnine.

Examples
--------
>>> import opr_analysis as opr                                   # doctest: +SKIP
>>> reg = opr.load_extract("data/synthetic")                     # doctest: +SKIP
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

from .errors import ExtractError, IdentifiableDataError, OprError, UsageError
from .extract import codebook

# Public name -> the module (relative to this package) that defines it, or (module, name there);
# imported on first use.
_LAZY = {
    **dict.fromkeys(["Registry", "load_extract", "open_extract"], "extract.reader"),
    **dict.fromkeys(["Problem", "TableSummary", "ValidationReport"], "extract.validation"),
    **dict.fromkeys(
        [
            "answers_to_wide", "eq5d5l_index", "load_eq5d5l_value_set", "score_all", "score_bpi_interference",
            "score_eq5d5l", "score_hscl10", "score_isi", "score_nrs", "score_odi", "score_pcs", "score_pgic",
            "wide_to_answers",
        ],
        "stats.scoring",
    ),
    "synth_answers": "synth.answers",
    **dict.fromkeys(["scan_outputs", "scanned_output"], "safety.privacy"),
    **dict.fromkeys(["atomic_dir", "atomic_file"], "safety.atomic"),
    **dict.fromkeys(["owned_dir", "owned_file", "check_dir_target", "check_file_target"], "safety.owned"),
    "deliver_extract": ("extracts", "deliver"),
    "load_extract_spec": ("extracts", "load_spec"),
    **dict.fromkeys(
        ["baseline_profile", "baseline_scores", "change_summary", "followup_scores", "improvement_rates",
         "paired_outcomes", "outcome_window", "unscored_counts"],
        "stats.proms",
    ),
    **dict.fromkeys(["nonresponse_model", "prognostic_model", "tidy_logit", "guard_terms", "guard_notes"], "stats.models"),
    "series_test": "stats.trends",
    "foreign_anchor_count": "stats.followup",
    **dict.fromkeys(["repo_root", "resolve_extract"], "paths"),
    **dict.fromkeys(["SyntheticRegistry", "synthesize", "write_synthetic"], "synth.registry"),
    # response-rate experiments (issue 18)
    "analyse_experiment": ("experiment", "analyse"),
    "load_experiment_spec": ("experiment", "load_spec"),
    **dict.fromkeys(["allocate", "make_plan", "plan_markdown", "result_markdown", "sample_size"], "experiment"),
    # issue 16: units and quality indicators
    **dict.fromkeys(["for_unit", "unit_table", "row_units"], "extract.units"),
    **dict.fromkeys(["indicator_results", "load_definitions"], "indicators"),
    "funnel_limits": "indicators.funnel",
    "write_indicators": "indicators.output",
    "synthesize_units": "synth.units",
    # issue 14: the report's workbook, figures and fallback page
    **dict.fromkeys(["write_workbook"], "report.workbook"),
    **dict.fromkeys(["alt_text", "figure_bundle", "install_figure_display"], "report.display"),
    "render_fallback": "report.fallback",
}  # fmt: skip

# Modules that lived at the top level before the move into subpackages (issue 17), so that
# ``from opr_analysis import proms, models`` in notebooks and scripts keeps working.
_MODULES = {
    "models": "stats.models", "proms": "stats.proms", "scoring": "stats.scoring", "prom_figures": "report.prom_figures",
    "reader": "extract.reader", "stats": "stats", "synth": "synth", "report": "report", "extracts": "extracts",
    "experiment": "experiment", "indicators": "indicators",
}  # fmt: skip


def __getattr__(name: str):
    if name in _MODULES:
        module = importlib.import_module(f".{_MODULES[name]}", __name__)
        globals()[name] = module
        return module
    target = _LAZY.get(name)
    if target is None and name in _stats_names():
        target = "stats"
    if target is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, attr = target if isinstance(target, tuple) else (target, name)
    value = getattr(importlib.import_module(f".{module}", __name__), attr)
    if module != "stats":  # statistics can be registered at run time (table registry): look them up each time
        globals()[name] = value
    return value


def _stats_names() -> dict:
    """The statistics' public names, from the table registry (light: no pandas)."""
    from .stats.table_registry import public_names

    return public_names()


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY, *_MODULES, *_stats_names()})


__all__ = [
    "__version__",
    "codebook",
    "ExtractError",
    "IdentifiableDataError",
    "OprError",
    "UsageError",
    *_LAZY,
    *_stats_names(),
]
