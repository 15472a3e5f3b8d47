"""``opr followups EXTRACT --as-of DATE --out FILE.csv``: who is owed which follow-up, and was it sent."""

from __future__ import annotations

from pathlib import Path

from ._dates import add_as_of, as_of_date, load_with_summary
from ._options import path_arg


def register(sub) -> None:
    p = sub.add_parser(
        "followups",
        help="skriv oppfølgingsrevisjonen rad for rad (skyldig, unntatt, sendt) som CSV",
        description="Bruk oppfølgingsregelen i datakontrakten (RF/SCS 3, 6 og 12 måneder fra "
        "2021-06-01; 12 måneder etter avslutning fra 2021-12-01; unntak: under 18 år, kognitiv svikt, "
        "tolk, deltar i forskning, reservert, før start, ennå ikke forfalt) og skriv én rad per "
        "oppfølging: patient_id, kind, anchor_id, due_date, om den er skyldig, unntakene som gjelder, "
        "og hva som ble sendt (followup_id, sent_date, response). status: sendt, ikke_sendt, "
        "sendt_ikke_skyldig, unntatt. Oppfølginger uten anker settes i karantene av leseren (se "
        "oppsummeringen) og listes ikke. Filen erstattes bare hvis opr followups har skrevet den.",
    )
    p.add_argument("extract", type=path_arg, metavar="UTTREKK", help="mappen med uttrekkets tabellfiler")
    p.add_argument("--out", type=path_arg, required=True, metavar="FIL.csv", help="CSV-filen som skrives")
    add_as_of(p)
    p.set_defaults(func=run)


def signature() -> str:
    """The first line of the file (its CSV header): what marks it as written by opr followups."""
    from ..stats.followup import AUDIT_COLUMNS

    return ",".join(AUDIT_COLUMNS)


def run(args) -> int:
    from ..safety.owned import check_file_target, owned_file, protected_folders
    from ..safety.privacy import scan_file
    from ..stats import followup_audit

    as_of = as_of_date(args.as_of)
    out = Path(args.out)
    protect = protected_folders([args.extract])
    check_file_target(out, signature(), protect)
    reg = load_with_summary(args.extract)
    audit = followup_audit(reg, as_of=as_of)
    # scanned for identity numbers before it is moved into place
    with owned_file(out, signature(), protect, check=lambda tmp: scan_file(tmp, out.name, None)) as tmp:
        audit.to_csv(tmp, index=False, encoding="utf-8", na_rep="")
    counts = audit["status"].value_counts()
    parts = ", ".join(f"{k}: {int(v)}" for k, v in counts.items())
    print(f"Skrev {len(audit)} rader til {out} (per {as_of:%Y-%m-%d}; {parts}).")
    return 0
