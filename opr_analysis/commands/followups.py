"""``opr followups EXTRACT --as-of DATE --out FILE.csv``: who is owed which follow-up, and was it sent."""

from __future__ import annotations

from pathlib import Path

from ._dates import add_as_of, as_of_date, load_with_summary


def register(sub) -> None:
    p = sub.add_parser(
        "followups",
        help="write the row-level follow-up audit (owed, excluded, sent) as CSV",
        description="Apply the follow-up rule of the data contract (RF/SCS 3, 6, 12 months from "
        "2021-06-01; 12 months after closure from 2021-12-01; exclusions: under 18, cognitive "
        "impairment, interpreter, research participant, reserved, before the start, not yet due) "
        "and write one row per follow-up: patient_id, kind, anchor_id, due_date, whether it is owed, "
        "the exclusions that apply, and what was sent (followup_id, sent_date, response). "
        "status: sendt, ikke_sendt, sendt_ikke_skyldig, unntatt. Follow-ups whose anchor is "
        "missing are quarantined by the reader (see the summary) and not listed.",
    )
    p.add_argument("extract", type=Path, help="folder holding the extract's table files")
    p.add_argument("--out", type=Path, required=True, metavar="FILE.csv", help="CSV file to write")
    add_as_of(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from ..safety.privacy import scanned_file
    from ..stats import followup_audit

    as_of = as_of_date(args.as_of)
    reg = load_with_summary(args.extract)
    audit = followup_audit(reg, as_of=as_of)
    out = Path(args.out)
    with scanned_file(out) as tmp:  # scanned for identity numbers before it is moved into place
        audit.to_csv(tmp, index=False, encoding="utf-8", na_rep="")
    counts = audit["status"].value_counts()
    parts = ", ".join(f"{k}: {int(v)}" for k, v in counts.items())
    print(f"Skrev {len(audit)} rader til {out} (per {as_of:%Y-%m-%d}; {parts}).")
    return 0
