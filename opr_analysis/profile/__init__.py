"""The clinician's view of one patient (issue 28): a profile for the consultation.

Modules: :mod:`.definitions` (scores shown, cut-offs, clinically important change, scoring
provenance), :mod:`.reference` (reference groups, percentiles, age bands), :mod:`.gate`
(who may have a profile: erasure), :mod:`.assemble` (one enrolment's profile as plain data).
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

__all__ = [
    "ErasedPatientError",
    "PatientProfile",
    "ProfileContext",
    "clinic_enrolments",
    "patient_enrolment",
    "patient_profile",
    "profile_context",
]
