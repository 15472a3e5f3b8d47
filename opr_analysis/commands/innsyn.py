"""``opr innsyn PATIENT_ID --extract DIR --out DIR``: the answer to a patient's access request."""

from __future__ import annotations

from pathlib import Path

from ._dates import add_register_options, check_register_options
from ._options import path_arg


def register(sub) -> None:
    p = sub.add_parser(
        "innsyn",
        help="svar på et krav om innsyn: alt uttrekket har om én pasient, og hvem som har fått opplysningene",
        description="Les og kontroller registeruttrekket og skriv svaret på et krav om innsyn for PASIENT_ID "
        "(registerets pasient-ID, aldri fødselsnummer) til UT: innsyn.html (og innsyn.pdf når Quarto finnes) "
        "med alle opplysninger uttrekket har om pasienten med kodebokens betegnelser, spørsmålstekster og "
        "svar, skårer, forskningsprosjekter som har fått opplysningene (leveranseregisteret) og pasientens "
        "rettigheter; og innsyn.json og tabeller/*.csv (maskinlesbart). UT må være en egen mappe opr eier, "
        "aldri i en rapport eller leveranse; den erstattes som helhet bare hvis opr innsyn har skrevet den.",
    )
    p.add_argument("patient_id", metavar="PASIENT_ID", help="pasientens ID i registeret (patient_id)")
    p.add_argument("--extract", type=path_arg, required=True, metavar="MAPPE", help="mappen med registeruttrekket")
    p.add_argument("--out", type=path_arg, required=True, metavar="MAPPE", help="mappen svaret skrives til")
    add_register_options(p)
    p.add_argument(
        "--texts",
        type=path_arg,
        metavar="MAPPE",
        help="mappen med rettigheter.md (standard: reports/ i prosjektmappen)",
    )
    p.set_defaults(func=run)


def check_patient_id(text: str) -> str:
    """The patient id argument: not blank, and never a national identity number (refused unseen)."""
    from ..errors import UsageError
    from ..safety.nin import has_nin

    pid = str(text).strip()
    if not pid:
        raise UsageError("PASIENT_ID er tom; oppgi pasientens ID i registeret")
    if has_nin(pid):
        raise UsageError("PASIENT_ID ser ut som et fødselsnummer; oppgi pasientens ID i registeret (patient_id)")
    return pid


def run(args) -> int:
    from ..errors import UsageError
    from ..report.pipeline import TEXTS
    from ..safety.owned import check_dir_target, check_not_inside_outputs, protected_folders

    pid = check_patient_id(args.patient_id)
    protect = protected_folders([args.extract], [args.key_dir])
    check_dir_target(args.out, "innsyn", protect)
    check_not_inside_outputs(args.out, "innsyn")
    texts = args.texts or TEXTS
    if not (Path(texts) / "rettigheter.md").is_file():
        raise UsageError(f"fant ikke rettighetsteksten «rettigheter.md» i «{texts}» (--texts)")
    log = check_register_options(args, args.out)
    from ..report.pipeline import find_quarto
    from ..report.texts import load_text
    from ..rights.access import patient_access
    from ..rights.document import write_access
    from ..safety.owned import owned_dir
    from ._dates import load_with_summary

    reg = load_with_summary(args.extract)
    answer = patient_access(reg, pid, log, args.key_dir)
    others = other_patients_ids(reg, pid)
    rights_text = load_text("rettigheter", texts)
    # scanned for identity numbers and for every other patient's ids before it is moved into place
    with owned_dir(args.out, "innsyn", check=lambda tmp: scan_answer(tmp, others), protect=protect) as tmp:
        files = write_access(answer, tmp, rights_text, reg.tables.get("units"), find_quarto())
    formats = ", ".join(p.name for p in files if p.parent == tmp)
    print(
        f"Skrev svaret på innsynskravet ({answer.rows} rader, {len(answer.answers)} skjemasvar, "
        f"{len(answer.deliveries)} leveranse{'r' if len(answer.deliveries) != 1 else ''}) til {args.out}: "
        f"{formats} og tabeller/."
    )
    return 0


def other_patients_ids(reg, pid: str) -> set[str]:
    """Every other patient's id and the ids of their rows: none may appear in the answer.

    Ids of digits only are left out below six digits: a date or a count in the document would match them
    (a false alarm would stop the answer); every id with a letter or a sign is checked."""
    from ..extract import codebook
    from ..rights.linkage import patient_rows

    cb = codebook.load()
    own = patient_rows(reg.tables, [pid])
    ids: set[str] = set()
    for name, frame in reg.tables.items():
        spec = cb.tables.get(name)
        if spec is None or name not in own or "patient_id" not in frame:
            continue
        others = frame[~own[name]]
        ids |= set(others["patient_id"].dropna().astype(str))
        if spec.id_column:
            ids |= set(others[spec.id_column].dropna().astype(str))
    return {i for i in ids if not i.isdigit() or len(i) >= 6} - {pid}


def scan_answer(folder: Path, ids) -> None:
    """:func:`~opr_analysis.safety.privacy.scan_outputs` of the answer, the PDF by its text.

    A PDF's pages are compressed: scanned as bytes, short ids of other patients (``PB``) turn up by chance
    in the compressed data and stop the answer; its text (pypdf) is what a reader sees, and is scanned."""
    import tempfile

    from ..safety.privacy import IdMatcher, scan_file

    matcher = IdMatcher(ids)
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = path.relative_to(folder).as_posix()
        if path.suffix.lower() != ".pdf":
            scan_file(path, name, matcher)
            continue
        from pypdf import PdfReader

        text = "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)
        with tempfile.NamedTemporaryFile("w", suffix=".txt", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            scan_file(Path(fh.name), name, matcher)
