"""opr_analysis: analytics and reporting for the OUS pain registry (OPR).

Examples
--------
>>> import opr_analysis as opr                                   # doctest: +SKIP
>>> reg = opr.load_extract("data/synthetic")                     # doctest: +SKIP
"""

from __future__ import annotations

__version__ = "0.1.0"

from . import codebook
from .atomic import atomic_dir, atomic_file
from .errors import ExtractError, IdentifiableDataError, OprError, UsageError
from .extracts import deliver as deliver_extract
from .extracts import load_spec as load_extract_spec
from .privacy import scan_outputs, scanned_output
from .reader import Registry, load_extract
from .stats import *  # noqa: F403  (issue 3 statistics)
from .stats import __all__ as _stats_all
from .validation import Problem, TableSummary, ValidationReport
from .scoring import (
    answers_to_wide,
    eq5d5l_index,
    load_eq5d5l_value_set,
    score_all,
    score_bpi_interference,
    score_eq5d5l,
    score_hscl10,
    score_isi,
    score_nrs,
    score_odi,
    score_pcs,
    score_pgic,
    wide_to_answers,
)
from .synth_answers import synth_answers
from .proms import (
    baseline_profile,
    baseline_scores,
    change_summary,
    followup_scores,
    improvement_rates,
    paired_outcomes,
)
from .models import nonresponse_model, prognostic_model, tidy_logit
from .paths import open_extract, repo_root, resolve_extract
from .synth import SyntheticRegistry, synthesize, write_synthetic

__all__ = [
    "__version__",
    "codebook",
    "atomic_dir",
    "atomic_file",
    "load_extract",
    "deliver_extract",
    "load_extract_spec",
    "scan_outputs",
    "scanned_output",
    "Registry",
    "ValidationReport",
    "TableSummary",
    "Problem",
    "ExtractError",
    "IdentifiableDataError",
    "OprError",
    "UsageError",
    "answers_to_wide",
    "eq5d5l_index",
    "load_eq5d5l_value_set",
    "score_all",
    "score_bpi_interference",
    "score_eq5d5l",
    "score_hscl10",
    "score_isi",
    "score_nrs",
    "score_odi",
    "score_pcs",
    "score_pgic",
    "synth_answers",
    "wide_to_answers",
    *_stats_all,
    "SyntheticRegistry",
    "synthesize",
    "write_synthetic",
    "baseline_profile",
    "baseline_scores",
    "change_summary",
    "followup_scores",
    "improvement_rates",
    "paired_outcomes",
    "nonresponse_model",
    "prognostic_model",
    "tidy_logit",
    "open_extract",
    "repo_root",
    "resolve_extract",
]
