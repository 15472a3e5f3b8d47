"""opr_analysis: analytics and reporting for the OUS pain registry (OPR).

Examples
--------
>>> import opr_analysis as opr                                   # doctest: +SKIP
>>> reg = opr.load_extract("data/synthetic")                     # doctest: +SKIP
"""

from __future__ import annotations

__version__ = "0.1.0"

from . import codebook
from .errors import ExtractError, IdentifiableDataError, OprError, UsageError
from .privacy import scan_outputs, scanned_output
from .reader import Registry, load_extract
from .validation import Problem, TableSummary, ValidationReport

__all__ = [
    "__version__",
    "codebook",
    "load_extract",
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
]
