"""The answer to an access request (innsyn, GDPR art. 15): everything the extract holds about one patient.

:func:`patient_access` gathers, for one patient id:

- every row of every codebook table that belongs to the patient (the rule of
  :mod:`.linkage`, the same as erasure's: their ``patient_id``, and rows that
  refer to their rows), so a table added later (``implants``) appears when the
  extract has it; units and the OPRv1 aggregates are not about anyone;
- their questionnaire answers with the item texts of ``instruments.yaml`` and,
  where an item has answer categories, the category's text;
- their scores (:func:`opr_analysis.stats.scoring.score_all`, labels from
  ``SCORE_LABELS``), per questionnaire;
- which research deliveries held their data (the delivery register,
  :func:`~opr_analysis.rights.register.deliveries_of`): purpose, recipient,
  institution, date; and the deliveries made before the register, which may have;
- when the patient was erased at their own request: that, and the date.

Nothing here reads another patient's rows; :mod:`.document` writes the answer,
and ``opr innsyn`` scans what it wrote for every other patient's ids.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from ..errors import UsageError
from ..extract import codebook
from .erasure import erasure_requests
from .linkage import patient_rows

#: Tables that are about no one (units) or about everyone at once (aggregates); never in an access answer.
NOT_PERSONAL = ("units", "legacy_v1")
#: Item-level answer tables and the questionnaire table, id column and date of each.
ANSWER_TABLES = {
    "baseline_answers": ("baseline_responses", "response_id", "submitted_at", "Baselineskjema"),
    "followup_answers": ("followups", "followup_id", "responded_at", "Oppfølgingsskjema"),
}


@dataclass
class AccessAnswer:
    """What the extract holds about one patient (see the module docstring)."""

    patient_id: str
    made: dt.date
    extract: str
    tables: dict[str, pd.DataFrame]
    answers: pd.DataFrame
    scores: pd.DataFrame
    deliveries: pd.DataFrame
    possible_deliveries: pd.DataFrame
    erased_from: pd.Timestamp | None = None
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        """Rows about the patient over all tables."""
        return int(sum(len(t) for t in self.tables.values()))


def patient_access(reg, patient_id: str, log_path=None, key_dir=None, on=None) -> AccessAnswer:
    """The access answer for ``patient_id`` from the registry ``reg`` (module docstring).

    ``log_path``: the delivery log beside which the register lies (None: no deliveries are looked up).
    Raises :class:`UsageError` when the extract holds nothing about the id (a mistyped id must not be
    answered with «nothing»).
    """
    pid = str(patient_id).strip()
    masks = patient_rows(reg.tables, [pid], skip=NOT_PERSONAL)
    tables = {name: reg.tables[name][mask] for name, mask in masks.items() if mask.any()}
    erased = erasure_requests(reg, on)
    erased = erased[erased["patient_id"] == pid]
    if not tables and erased.empty:
        raise UsageError(
            f"uttrekket har ingen opplysninger om pasient-ID «{pid}»; kontroller ID-en (pasient-ID i registeret, "
            "ikke fødselsnummer)"
        )
    answers = _answers(tables)
    found = _deliveries(pid, log_path, key_dir)
    return AccessAnswer(
        patient_id=pid,
        made=pd.Timestamp(on or pd.Timestamp.now(tz="Europe/Oslo").tz_localize(None)).date(),
        extract=str(getattr(reg, "path", "")),
        tables={n: t for n, t in tables.items() if n not in ANSWER_TABLES},
        answers=answers,
        scores=_scores(tables),
        deliveries=found[found["status"] == "med"].reset_index(drop=True),
        possible_deliveries=found[found["status"] == "ukjent"].reset_index(drop=True),
        erased_from=erased["effective_date"].min() if len(erased) else None,
        sources=dict(sorted(reg.input_hashes().items())) if hasattr(reg, "input_hashes") else {},
    )


def _deliveries(pid: str, log_path, key_dir) -> pd.DataFrame:
    from .register import REGISTER_FIELDS, deliveries_of

    if log_path is None:
        return pd.DataFrame(columns=["patient_id", "status", *REGISTER_FIELDS], dtype=object)
    return deliveries_of([pid], log_path, key_dir)


def _answers(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Every questionnaire answer of the patient: questionnaire, id, date, instrument, item, text, value, answer text."""
    cb = codebook.load()
    items = cb.items
    parts = []
    for name, (parent, id_col, date_col, label) in ANSWER_TABLES.items():
        rows = tables.get(name)
        if rows is None or rows.empty:
            continue
        dates = tables[parent].set_index(tables[parent][id_col].astype(str))[date_col] if parent in tables else None
        ids = rows[id_col].astype(str)
        parts.append(
            pd.DataFrame(
                {
                    "questionnaire": label,
                    "id": ids.to_numpy(),
                    "date": ids.map(dates).to_numpy() if dates is not None else pd.NaT,
                    "instrument": [
                        cb.instruments[items[i].instrument].label if i in items else "" for i in rows["item"]
                    ],
                    "item": rows["item"].astype(str).to_numpy(),
                    "text": [items[i].label if i in items else i for i in rows["item"]],
                    "value": rows["value"].astype("float64").to_numpy(),
                    "answer": [
                        items[i].codes.get(int(v), "") if i in items and pd.notna(v) and float(v).is_integer() else ""
                        for i, v in zip(rows["item"], rows["value"], strict=True)
                    ],
                }
            )
        )
    columns = ["questionnaire", "id", "date", "instrument", "item", "text", "value", "answer"]
    if not parts:
        return pd.DataFrame(columns=columns)
    return pd.concat(parts, ignore_index=True)[columns].sort_values(["date", "questionnaire", "id"], kind="stable")


def _scores(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The patient's scores per questionnaire: questionnaire, id, score, label, value (scored answers only)."""
    from ..stats.scoring import SCORE_LABELS, answers_to_wide, score_all

    parts = []
    for name, (_, id_col, _, label) in ANSWER_TABLES.items():
        rows = tables.get(name)
        if rows is None or rows.empty:
            continue
        wide = answers_to_wide(rows.assign(**{id_col: rows[id_col].astype(str)}), id_col)
        scores = score_all(wide)
        for qid, values in scores.iterrows():
            for score, value in values.items():
                if score in SCORE_LABELS and pd.notna(value):
                    parts.append(
                        {
                            "questionnaire": label,
                            "id": qid,
                            "score": score,
                            "label": SCORE_LABELS[score],
                            "value": value,
                        }
                    )
    return pd.DataFrame(parts, columns=["questionnaire", "id", "score", "label", "value"])
