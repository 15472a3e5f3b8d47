"""A tiny synthetic extract for the research-extract tests (CSV files, fixed content)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import yaml

REGIONS = ("lokal", "regional", "nasjonal")


def write_extract(folder: Path, n: int = 60, seed_shift: int = 0) -> Path:
    """``n`` patients, one enrolment each (every 7th patient two), with referrals, baselines,
    treatments and follow-ups. Ids look like ``PAS-00001`` so that a byte scan finds them."""
    folder.mkdir(parents=True, exist_ok=True)
    pats, refs, enrs, bls, sfs, trts, fus = [], [], [], [], [], [], []
    for i in range(1, n + 1):
        pid = f"PAS-{i:05d}"
        birth = 1950 + (i * 7 + seed_shift) % 40
        pats.append([pid, birth, "K" if i % 3 else "M", "false", "false", "false", ""])
        n_enr = 2 if i % 7 == 0 else 1
        for j in range(n_enr):
            granted = dt.date(2021 + (i + j) % 3, 1 + (i * 5) % 12, 1 + i % 27)
            eid = f"INN-{i:05d}-{j}"
            refs.append([f"HEN-{i:05d}-{j}", pid, granted - dt.timedelta(days=10), "rett", REGIONS[i % 3]])
            first = granted + dt.timedelta(days=30 + i % 20)
            closed = first + dt.timedelta(days=200) if i % 2 else None
            enrs.append([eid, pid, granted, first, closed or "", "", "M54.5" if i % 4 else "G89.4"])
            if i % 5:
                bls.append([f"SVAR-{i:05d}-{j}", pid, f"{first - dt.timedelta(days=3)}T10:15:00", 1_000_000 + i])
            else:
                sfs.append([f"KORT-{i:05d}-{j}", pid, first, "glemt"])
            if i % 4 == 0:
                tid = f"BEH-{i:05d}-{j}"
                tdate = first + dt.timedelta(days=60)
                trts.append([tid, pid, "rf" if i % 8 else "scs", tdate])
                kind = "rf_3m" if i % 8 else "scs_3m"
                fus.append(
                    [
                        f"OPP-{i:05d}-{j}",
                        pid,
                        kind,
                        tid,
                        tdate + dt.timedelta(days=92),
                        f"{tdate + dt.timedelta(days=100)}T09:00:00" if i % 3 else "",
                    ]
                )
    tables = {
        "patients": (
            pats,
            [
                "patient_id",
                "birth_year",
                "sex",
                "interpreter_needed",
                "cognitive_impairment",
                "research_participant",
                "reserved_date",
            ],
        ),
        "referrals": (
            refs + [["HEN-AVVIST-1", "PAS-99999", dt.date(2022, 5, 5), "avvist", "lokal"]],
            ["referral_id", "patient_id", "assessed_date", "decision", "region"],
        ),
        "enrolments": (
            enrs,
            [
                "enrolment_id",
                "patient_id",
                "granted_date",
                "first_consultation_date",
                "closed_date",
                "dips_closed_date",
                "diagnosis",
            ],
        ),
        "baseline_responses": (bls, ["response_id", "patient_id", "submitted_at", "duration_ms"]),
        "short_forms": (sfs, ["short_form_id", "patient_id", "date", "reason"]),
        "treatments": (trts, ["treatment_id", "patient_id", "kind", "date"]),
        "followups": (fus, ["followup_id", "patient_id", "kind", "anchor_id", "sent_date", "responded_at"]),
    }
    for name, (rows, cols) in tables.items():
        pd.DataFrame(rows, columns=cols).to_csv(folder / f"{name}.csv", index=False)
    return folder


BASE_SPEC = {
    "project": "test-prosjekt",
    "title": "Testprosjekt",
    "research_question": "Svarer pasientene på baseline?",
    "recipient": {"name": "Test Forsker", "institution": "UiO"},
    "variables": {
        # Issue 12.2: k is checked on the patient-level record joined over every file; a patient with two
        # enrolments in different age bands is unique among the fixture's 60, so age is left out here.
        "enrolments": ["patients.sex", "enrolment_year", "has_baseline", "enrolments.diagnosis"],
        "treatments": ["treatments.kind", "treatments.date"],
        "followups": ["followups.kind", "responded", "treatment_no"],
        "baseline_responses": ["baseline_responses.submitted_at", "before_first_consultation"],
    },
    "dates": "month",
    "formats": ["csv", "parquet", "sav", "dta", "xlsx"],
    "disclosure": {"k": 2, "on_violation": "generalise"},
}


def write_spec(path: Path, **changes) -> Path:
    spec = {**BASE_SPEC, **changes}
    path.write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path
