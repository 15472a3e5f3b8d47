"""``opr synth``: write a calibrated synthetic registry extract (no real patients)."""

from __future__ import annotations

import argparse
import re
import time

# Mirrors opr_analysis.synth.registry.DEFAULT_SEED / FORMATS / DIALECTS (tests check they agree); not imported from
# there so that `opr --help` does not load numpy and pandas.
DEFAULT_SEED = 2024
FORMATS = ("csv", "parquet", "xlsx")
DIALECTS = ("iso", "norsk")

HELP = "skriv et syntetisk registeruttrekk (ingen ekte pasienter)"


def _years(value: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d{4})\s*(?:-\s*(\d{4})\s*)?", value)
    if not m:
        raise argparse.ArgumentTypeError(f"ugyldige år {value!r}; skriv for eksempel 2020-2025")
    first, last = int(m.group(1)), int(m.group(2) or m.group(1))
    if first > last:
        raise argparse.ArgumentTypeError(f"første år {first} er etter siste år {last}")
    return first, last


def _scale(value: str) -> float:
    try:
        scale = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"ugyldig skala {value!r}; skriv et tall, for eksempel 1 eller 0.5") from None
    if not scale > 0:
        raise argparse.ArgumentTypeError("skala må være større enn 0")
    return scale


def _seed(value: str) -> int:
    try:
        seed = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"ugyldig frø {value!r}; skriv et heltall, for eksempel 2024") from None
    if seed < 0:
        raise argparse.ArgumentTypeError("frøet må være 0 eller større")
    return seed


def _units(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"ugyldig antall enheter {value!r}; skriv et helt tall") from None
    if n < 1:
        raise argparse.ArgumentTypeError("antall enheter må være minst 1")
    return n


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "synth",
        help=HELP,
        description="Skriv et komplett syntetisk registeruttrekk i datakontraktens format: "
        "alle påkrevde tabeller, den valgfrie tabellen legacy_v1, utvidelseskolonnen diagnosis og "
        "implantatregisteret (implants: generator og elektroder for hver SCS-behandling, fiktive produsenter, "
        "eksplantasjoner og batteribytter). "
        "Volumet ligner avdelingens (om lag 2 200 vurderte henvisninger i året med --scale 1; "
        "--scale 100 er nasjonal størrelse). Samme frø, skala, år og format gir de samme bytene. "
        "Mappen skrives ferdig og flyttes så på plass; en mappe som finnes, erstattes bare hvis "
        "opr synth har skrevet den.",
    )
    p.add_argument("--out", required=True, metavar="MAPPE", help="mappen som skrives (f.eks. data/synthetic)")
    p.add_argument(
        "--seed", type=_seed, default=DEFAULT_SEED, help=f"frø for tilfeldige tall (standard {DEFAULT_SEED})"
    )
    p.add_argument("--scale", type=_scale, default=1.0, help="volumfaktor (standard 1; 100 = nasjonal størrelse)")
    p.add_argument(
        "--years",
        type=_years,
        default=(2020, 2025),
        metavar="FØRSTE-SISTE",
        help="henvisningsår, begge med (standard 2020-2025); uttrekket slutter 31. desember i SISTE",
    )
    p.add_argument("--format", dest="fmt", choices=FORMATS, default="csv", help="filformat (standard csv)")
    p.add_argument(
        "--dialect",
        choices=DIALECTS,
        default="iso",
        help="CSV-dialekt (standard iso: ',', ISO-datoer, true/false); norsk: ';', BOM, "
        "31.12.2023 og 31.12.2023 14:05:09, ja/nei, desimalkomma, CRLF, slik registerets systemer eksporterer",
    )
    p.add_argument(
        "--no-answers",
        dest="answers",
        action="store_false",
        help="utelat de valgfrie tabellene med skjemasvar (baseline_answers, followup_answers); "
        "de tar mest tid og plass ved stor skala, og rapporttabellene bruker dem ikke",
    )
    # Response-rate experiments (issue 18)
    p.add_argument(
        "--experiment",
        metavar="SPEC",
        help="skriv også et syntetisk forsøk med kort oppfølgingsskjema: tabellen allocations og kolonnen "
        "variant i followups, med en plantet effekt (se --effect)",
    )
    p.add_argument(
        "--effect",
        type=float,
        default=0.10,
        help="med --experiment: den plantede forskjellen i svarandel (intention to treat), kort minus full "
        "(standard 0.10; 0 planter ingen)",
    )
    # --- v1.1 units (issue 16) ---
    p.add_argument(
        "--units",
        type=_units,
        default=1,
        metavar="N",
        help="antall enheter (klinikker); N > 1 skriver tabellen units og kolonnene unit_id (kontrakt v1.1), "
        "enheter av ulik størrelse og kvalitet (standard 1: ingen units-tabell, som før)",
    )
    # --- end v1.1 units ---
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..safety.owned import check_dir_target
    from ..synth.registry import synthesize, write_tables

    check_dir_target(args.out, "synth")
    start = time.perf_counter()
    generators = None if getattr(args, "answers", True) else []
    if getattr(args, "experiment", None):  # response-rate experiments (issue 18)
        from ..experiment import load_spec
        from ..synth.experiment import experiment_generators

        spec = load_spec(args.experiment)
        generators = experiment_generators(spec, args.effect, answers=generators is None)
    if getattr(args, "units", 1) > 1:  # v1.1 units (issue 16)
        from ..synth.units import synthesize_units

        tables = synthesize_units(args.units, seed=args.seed, scale=args.scale, years=tuple(args.years),
                                  generators=generators)  # fmt: skip
    else:
        tables = synthesize(seed=args.seed, scale=args.scale, years=tuple(args.years), generators=generators).tables
    out = write_tables(tables, args.out, args.fmt, getattr(args, "dialect", "iso"))
    rows = ", ".join(f"{name} {len(df)}" for name, df in tables.items())
    print(f"Skrev syntetisk uttrekk til {out} ({time.perf_counter() - start:.1f} s): {rows}")
    return 0
