"""Patients' rights (contract v1.2 «Patients' rights requests», issue 26).

Modules:

- :mod:`.erasure`: who is left out (:func:`erased_patients`) and the registry without
  them (:func:`without_erased`), applied once by :func:`~opr_analysis.load_extract`;
- :mod:`.reservation`: the one reservation date per patient the follow-up rule uses
  (:func:`reservation_dates`).
"""

from .erasure import ERASED_LABEL, Erasure, erased_patients, erasure_requests, without_erased
from .reservation import reservation_dates, reservation_requests

__all__ = [
    "ERASED_LABEL",
    "Erasure",
    "erased_patients",
    "erasure_requests",
    "reservation_dates",
    "reservation_requests",
    "without_erased",
]
