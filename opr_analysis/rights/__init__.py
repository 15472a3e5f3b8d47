"""Patients' rights (contract v1.2 «Patients' rights requests», issue 26).

Modules:

- :mod:`.linkage`: which rows of an extract belong to given patients (one rule, for erasure and access);
- :mod:`.erasure`: who is left out (:func:`erased_patients`) and the registry without them
  (:func:`without_erased`), applied once by :func:`~opr_analysis.load_extract`;
- :mod:`.reservation`: the one reservation date per patient the follow-up rule uses
  (:func:`reservation_dates`);
- :mod:`.register`: the delivery register, which deliveries held which patients as keyed hashes
  (:func:`record_delivery`, :func:`deliveries_of`), with the old delivery log migrated into it;
- :mod:`.notices`: for every erasure, every delivery to notify (:func:`erasure_notices`, ``opr sletting``);
- :mod:`.access` and :mod:`.document`: the answer to an access request (:func:`patient_access`,
  :func:`write_access`, ``opr innsyn``).

The statistics of requests handled on time are in :mod:`opr_analysis.stats.rights_requests`.
"""

from .access import AccessAnswer, patient_access
from .document import access_bundle, access_html, access_markdown, write_access
from .erasure import (
    ERASED_LABEL,
    Erasure,
    erased_count,
    erased_patients,
    erasure_requests,
    rows_without_erased,
    without_erased,
)
from .linkage import patient_rows
from .notices import erasure_notices
from .register import deliveries_of, read_register, record_delivery, sync_register
from .reservation import reservation_dates, reservation_requests

__all__ = [
    "ERASED_LABEL",
    "AccessAnswer",
    "Erasure",
    "access_bundle",
    "access_html",
    "access_markdown",
    "deliveries_of",
    "erased_count",
    "erased_patients",
    "erasure_notices",
    "erasure_requests",
    "patient_access",
    "patient_rows",
    "read_register",
    "record_delivery",
    "reservation_dates",
    "reservation_requests",
    "rows_without_erased",
    "sync_register",
    "without_erased",
    "write_access",
]
