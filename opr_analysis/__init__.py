"""opr_analysis: analytics and reporting for the OUS pain registry (OPR)."""

from __future__ import annotations

__version__ = "0.1.0"

from . import codebook
from .errors import ExtractError, IdentifiableDataError, OprError, UsageError

__all__ = [
    "__version__",
    "codebook",
    "ExtractError",
    "IdentifiableDataError",
    "OprError",
    "UsageError",
]
