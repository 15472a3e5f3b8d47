"""``opr pasient PASIENT-ID | --konsultasjonsdato DATO --extract DIR --out DIR [--as-of DATO] [--enhet ID]``.

The clinician's profile of one patient, or of every patient whose first consultation is on one
day (issue 28). Exit status: 0 profiles written (a clinic day with no first consultations
writes only its index); 1 no profile: the patient has an effective erasure or no enrolment yet,
the extract is unusable, a check of the output failed; 2 wrong usage (an unknown patient id or
unit, a bad date, both or neither of PASIENT-ID and ``--konsultasjonsdato``, an output folder
opr may not replace or one inside another opr output).
"""

from __future__ import annotations

import sys

from ._dates import add_as_of, as_of_date, parse_date
from ._options import path_arg


def register(sub) -> None:
    p = sub.add_parser(
        "pasient",
        help="pasientprofil til konsultasjonen: én pasient, eller alle med førstekonsultasjon en gitt dag",
        description="Lag en pasientprofil for klinikeren (HTML med utskrift på A4, og PDF når Quarto finnes): "
        "baseline med grenseverdier og persentil blant registerets pasienter av samme kjønn og aldersgruppe, "
        "behandlinger og oppfølginger, endring fra baseline med klinisk viktig bedring, PGIC, en figur og "
        "datamerknader. Med PASIENT-ID: pasientens siste innskriving. Med --konsultasjonsdato: én profil per "
        "innskriving med førstekonsultasjon den dagen, og en oversiktsside. Profilene skrives bare til en egen "
        "mappe som opr pasient eier. Pasienter som har krevd sletting får ingen profil.",
    )
    p.add_argument("patient", nargs="?", default=None, metavar="PASIENT-ID", help="pasientens ID i registeret")
    p.add_argument(
        "--konsultasjonsdato",
        default=None,
        metavar="DATO",
        help="lag profiler for alle innskrivinger med førstekonsultasjon denne dagen (ÅÅÅÅ-MM-DD eller DD.MM.ÅÅÅÅ)",
    )
    p.add_argument("--extract", type=path_arg, required=True, metavar="MAPPE", help="mappen med uttrekkets tabellfiler")
    p.add_argument(
        "--out",
        type=path_arg,
        required=True,
        metavar="MAPPE",
        help="mappen profilene skrives til; erstattes som helhet, og bare hvis opr pasient har skrevet den",
    )
    p.add_argument("--enhet", default=None, metavar="ENHET-ID", help="bare innskrivinger ved denne enheten")
    add_as_of(p)
    p.set_defaults(func=run)


def _check_arguments(args):
    from ..errors import UsageError

    if (args.patient is None) == (args.konsultasjonsdato is None):
        raise UsageError("oppgi enten en PASIENT-ID eller --konsultasjonsdato DATO (ikke begge, ikke ingen)")
    if args.patient is not None and not str(args.patient).strip():
        raise UsageError("PASIENT-ID kan ikke være tom")
    if args.enhet is not None and args.patient is not None:
        raise UsageError("--enhet gjelder bare sammen med --konsultasjonsdato")
    day = parse_date(args.konsultasjonsdato, "--konsultasjonsdato") if args.konsultasjonsdato is not None else None
    return as_of_date(args.as_of), day


def run(args) -> int:
    from ..profile.write import COMMAND
    from ..safety.owned import check_dir_target, check_not_inside_outputs, protected_folders

    as_of, day = _check_arguments(args)
    protect = protected_folders([args.extract])
    check_dir_target(args.out, COMMAND, protect)
    check_not_inside_outputs(args.out, COMMAND)
    from ..extract.reader import load_extract
    from ..extract.units import unit_table
    from ..profile import patient_enrolment, profile_context
    from ..profile.write import write_clinic_day, write_patient
    from ..report.pipeline import find_quarto

    reg = load_extract(args.extract)
    if args.enhet is not None:
        known = unit_table(reg)["unit_id"].astype(str).tolist()
        if args.enhet not in known:
            from ..errors import UsageError

            raise UsageError(f"ukjent enhet «{args.enhet}»; enhetene i uttrekket er: {', '.join(known)}")
    ctx = profile_context(reg, as_of)
    if args.patient is not None:
        patient_enrolment(ctx, str(args.patient).strip())  # unknown, erased or not enrolled: stop before any output
    print(reg.report.summary_text(), file=sys.stderr)  # the validation summary, once the arguments hold

    def log(line: str) -> None:
        print(line, file=sys.stderr)

    quarto = find_quarto()
    if day is None:
        done = write_patient(ctx, str(args.patient).strip(), args.out, quarto, protect, log)
        what = f"Profilen av pasient {str(args.patient).strip()}"
    else:
        done = write_clinic_day(ctx, day, args.out, quarto, protect, log, args.enhet)
        what = f"{done.profiles} {'profil' if done.profiles == 1 else 'profiler'} for {day:%d.%m.%Y} og oversikten"
    formats = "HTML og PDF" if done.pdf else "HTML"
    shown = [f for f in done.files if not f.startswith(".")]
    files = ", ".join(shown) if day is None else next(f for f in shown if f.startswith("klinikkdag-"))
    print(f"{what} ({formats}, data per {as_of:%d.%m.%Y}) ligger i {args.out}: {files} ({done.seconds:.1f} s)")
    return 0
