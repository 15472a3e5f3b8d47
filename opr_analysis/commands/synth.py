"""``opr synth``: write a calibrated synthetic registry extract (no real patients)."""

from __future__ import annotations

import argparse
import re
import time

from ._options import bounded_float, bounded_int, path_arg

# Mirrors opr_analysis.synth.registry.DEFAULT_SEED / FORMATS / DIALECTS (tests check they agree); not imported from
# there so that `opr --help` does not load numpy and pandas.
DEFAULT_SEED = 2024
FORMATS = ("csv", "parquet", "xlsx")
DIALECTS = ("iso", "norsk")

HELP = "skriv et syntetisk registeruttrekk (ingen ekte pasienter)"


# Bounds, mirroring opr_analysis.synth.registry / .units (tests check they agree): the volumes a user may ask
# for, units × scale at most MAX_SCALE (national size twice over), the years the generator models.
MIN_SCALE, MAX_SCALE = 0.01, 200.0
MAX_UNITS = 20
FIRST_YEAR, LAST_YEAR = 2000, 2100


def _years(value: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d{4})\s*(?:-\s*(\d{4})\s*)?", value)
    if not m:
        raise argparse.ArgumentTypeError(f"ugyldige år {value!r}; skriv for eksempel 2020-2025")
    first, last = int(m.group(1)), int(m.group(2) or m.group(1))
    if first > last:
        raise argparse.ArgumentTypeError(f"første år {first} er etter siste år {last}")
    if first < FIRST_YEAR or last > LAST_YEAR:
        raise argparse.ArgumentTypeError(f"årene må ligge mellom {FIRST_YEAR} og {LAST_YEAR} (fikk {first}-{last})")
    return first, last


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
    p.add_argument(
        "--out", required=True, type=path_arg, metavar="MAPPE", help="mappen som skrives (f.eks. data/synthetic)"
    )
    p.add_argument(
        "--seed",
        type=bounded_int(0, 2**63 - 1),
        default=DEFAULT_SEED,
        help=f"frø for tilfeldige tall, 0 eller større (standard {DEFAULT_SEED})",
    )
    p.add_argument(
        "--scale",
        type=bounded_float(MIN_SCALE, MAX_SCALE),
        default=1.0,
        help=f"volumfaktor {MIN_SCALE:g}–{MAX_SCALE:g} (standard 1; 100 = nasjonal størrelse)".replace(".", ","),
    )
    p.add_argument(
        "--years",
        type=_years,
        default=(2020, 2025),
        metavar="FØRSTE-SISTE",
        help=f"henvisningsår, begge med, mellom {FIRST_YEAR} og {LAST_YEAR} (standard 2020-2025); uttrekket "
        "slutter 31. desember i SISTE",
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
        type=path_arg,
        metavar="SPEC",
        help="skriv også et syntetisk forsøk med kort oppfølgingsskjema: tabellen allocations og kolonnen "
        "variant i followups, med en plantet effekt (se --effect)",
    )
    p.add_argument(
        "--effect",
        type=bounded_float(-1.0, 1.0),
        default=0.10,
        help="med --experiment: den plantede forskjellen i svarandel (intention to treat), kort minus full, "
        "mellom -1 og 1 (standard 0.10; 0 planter ingen)",
    )
    # --- v1.1 units (issue 16) ---
    p.add_argument(
        "--units",
        type=bounded_int(1, MAX_UNITS, "et helt antall enheter"),
        default=1,
        metavar="N",
        help=f"antall enheter (klinikker), 1–{MAX_UNITS}; N > 1 skriver tabellen units og kolonnene unit_id "
        "(kontrakt v1.1), enheter av ulik størrelse og kvalitet (standard 1: ingen units-tabell, som før)",
    )
    # --- end v1.1 units ---
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..errors import UsageError
    from ..safety.owned import check_dir_target
    from ..synth.registry import synthesize, write_tables

    units = getattr(args, "units", 1)
    if units * args.scale > MAX_SCALE:
        raise UsageError(
            f"--units {units} med --scale {args.scale:g} gir {units * args.scale:g} ganger avdelingens volum; "
            f"grensen er {MAX_SCALE:g} (nasjonal størrelse er 100). Velg færre enheter eller en mindre skala"
        )
    check_dir_target(args.out, "synth")
    start = time.perf_counter()
    generators = None
    if not getattr(args, "answers", True):  # every default generator but the answers (rights requests stay)
        from ..synth.answers import synth_answers
        from ..synth.registry import default_generators

        generators = [g for g in default_generators() if g is not synth_answers]
    if getattr(args, "experiment", None):  # response-rate experiments (issue 18)
        from ..experiment import load_spec
        from ..synth.experiment import experiment_generators

        spec = load_spec(args.experiment)
        generators = experiment_generators(spec, args.effect, answers=getattr(args, "answers", True))
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
