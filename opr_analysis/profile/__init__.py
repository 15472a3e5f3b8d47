"""The clinician's view of one patient (issue 28): a profile for the consultation, ``opr pasient``.

Modules, in the order data flows through them:

- :mod:`.definitions`: the scores a profile shows, their published cut-offs, clinically
  important change (MCID) and scoring provenance, with sources;
- :mod:`.reference`: reference groups, percentiles (``scipy.stats.percentileofscore``,
  mid-rank) and age bands; nothing under 20 patients is shown;
- :mod:`.gate`: who may have a profile (erasure, contract v1.2);
- :mod:`.assemble`: one enrolment's profile as plain data, from the registry's own functions;
- :mod:`.cells`: its text, cell by cell (``*_cells``, tested exactly);
- :mod:`.figure`: the one figure (plotnine), :mod:`.page`: the HTML page (A4 print),
  :mod:`.typst`: the PDF (Quarto's Typst), each escaping data through one function;
- :mod:`.write`: the folder opr owns, and the checks before anything is moved into place.

>>> from opr_analysis.profile import profile_context, patient_enrolment, patient_profile  # doctest: +SKIP
>>> ctx = profile_context(load_extract("data/synthetic"), "2025-06-30")                   # doctest: +SKIP
>>> p = patient_profile(ctx, patient_enrolment(ctx, "P0002480"))                           # doctest: +SKIP
"""

from __future__ import annotations

from .assemble import (
    ErasedPatientError,
    PatientProfile,
    ProfileContext,
    clinic_enrolments,
    patient_enrolment,
    patient_profile,
    profile_context,
)
from .figure import profile_figure
from .page import profile_html
from .write import write_clinic_day, write_patient

__all__ = [
    "ErasedPatientError",
    "PatientProfile",
    "ProfileContext",
    "clinic_enrolments",
    "patient_enrolment",
    "patient_profile",
    "profile_context",
    "profile_figure",
    "profile_html",
    "write_clinic_day",
    "write_patient",
]
