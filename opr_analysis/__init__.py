"""opr_analysis: analytics and reporting for the OUS pain registry (OPR)."""

from __future__ import annotations

__version__ = "0.1.0"

from . import codebook
from .errors import ExtractError, IdentifiableDataError, OprError, UsageError
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

__all__ = [
    "__version__",
    "codebook",
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
]
