"""``opr sletting --extract DIR [--out DIR]``: every delivery that held a patient who asked for erasure."""

from __future__ import annotations

from pathlib import Path

from ._dates import add_register_options, check_register_options
from ._options import path_arg

DEFAULT_OUT = Path("_output") / "sletting"


def register(sub) -> None:
    p = sub.add_parser(
        "sletting",
        help="finn alle forskningsleveranser som inneholdt pasienter med slettekrav (mottakere som må varsles)",
        description="Les og kontroller registeruttrekket, finn hvert slettekrav (rights_requests, kind "
        "sletting) som gjelder, og slå opp i leveranseregisteret ved siden av leveranseloggen hvilke "
        "leveranser som inneholdt pasienten, uansett når de ble laget: prosjekt, mottaker, tidspunkt og "
        "manifestets SHA-256, og pasientens pseudonym i prosjektet. Leveranser fra før registeret "
        "(uten pasientliste) står som «ukjent». Skriver sletting.csv og README.md til UT (en mappe opr "
        "eier, utenfor rapporter og leveranser); på skjermen står bare antall.",
    )
    p.add_argument("--extract", type=path_arg, required=True, metavar="MAPPE", help="mappen med registeruttrekket")
    p.add_argument(
        "--out",
        type=path_arg,
        default=DEFAULT_OUT,
        metavar="MAPPE",
        help=f"mappen listen skrives til (standard: {DEFAULT_OUT}; erstattes som helhet hvis opr sletting har "
        "skrevet den)",
    )
    add_register_options(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from ..safety.owned import check_dir_target, check_not_inside_outputs, protected_folders

    protect = protected_folders([args.extract], [args.key_dir])
    check_dir_target(args.out, "sletting", protect)
    check_not_inside_outputs(args.out, "sletting")
    import datetime as dt

    log = check_register_options(args, args.out)
    from ..rights.notices import erasure_notices, notices_readme
    from ..safety.owned import owned_dir
    from ..safety.privacy import scan_outputs
    from ._dates import load_with_summary

    reg = load_with_summary(args.extract)
    notices = erasure_notices(reg, log, args.key_dir)
    erasure = reg.report.erasure
    requests = 0 if erasure is None else len(erasure.requests)
    ids = [] if erasure is None else list(erasure.patients)
    made = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    # scanned for identity numbers and for the erased patients' own ids before it is moved into place
    with owned_dir(args.out, "sletting", check=lambda tmp: scan_outputs(tmp, ids), protect=protect) as tmp:
        notices.to_csv(tmp / "sletting.csv", index=False, encoding="utf-8", lineterminator="\n")
        (tmp / "README.md").write_text(notices_readme(notices, requests, made), encoding="utf-8")
    known = notices[notices["status"] == "med"]
    unknown = notices[notices["status"] == "ukjent"]
    print(
        f"{requests} slettekrav gjelder. {known['manifest_sha256'].nunique()} leveranser inneholdt en pasient med "
        f"slettekrav ({len(known)} krav–leveranse-par); {unknown['manifest_sha256'].nunique()} leveranser er fra før "
        f"leveranseregisteret og kan ha gjort det. Listen ligger i {args.out}."
    )
    return 0
