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


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "synth",
        help=HELP,
        description="Write a complete synthetic registry extract in the data contract's format: "
        "all required tables, the optional legacy_v1 table and the diagnosis extension column. "
        "Volumes resemble the department (about 2 200 assessed referrals a year at --scale 1; "
        "--scale 100 is national size). The same seed, scale, years and format give the same "
        "bytes. The folder is written in full and then moved into place; an existing folder is "
        "replaced only if it holds nothing but table files.",
    )
    p.add_argument("--out", required=True, metavar="DIR", help="folder to write (e.g. data/synthetic)")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    p.add_argument("--scale", type=_scale, default=1.0, help="volume multiplier (default 1; 100 = national size)")
    p.add_argument(
        "--years",
        type=_years,
        default=(2020, 2025),
        metavar="FIRST-LAST",
        help="referral years, inclusive (default 2020-2025); the extract ends 31 December of LAST",
    )
    p.add_argument("--format", dest="fmt", choices=FORMATS, default="csv", help="file format (default csv)")
    p.add_argument(
        "--dialect",
        choices=DIALECTS,
        default="iso",
        help="CSV dialect (default iso: ',', ISO dates, true/false); norsk: ';', byte-order mark, "
        "31.12.2023 and 31.12.2023 14:05:09, ja/nei, decimal comma, CRLF, as the registry's systems export",
    )
    p.add_argument(
        "--no-answers",
        dest="answers",
        action="store_false",
        help="leave out the optional questionnaire-answer tables (baseline_answers, followup_answers); "
        "they dominate time and size at large scales and the report tables do not use them",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..synth.registry import synthesize, write_tables

    start = time.perf_counter()
    generators = None if getattr(args, "answers", True) else []
    reg = synthesize(seed=args.seed, scale=args.scale, years=tuple(args.years), generators=generators)
    out = write_tables(reg.tables, args.out, args.fmt, getattr(args, "dialect", "iso"))
    rows = ", ".join(f"{name} {len(df)}" for name, df in reg.tables.items())
    print(f"Skrev syntetisk uttrekk til {out} ({time.perf_counter() - start:.1f} s): {rows}")
    return 0
