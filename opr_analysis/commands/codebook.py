"""``opr codebook [--out FILE]``: the codebook as Markdown."""

from __future__ import annotations

import sys

from ._options import path_arg

# The first line of the Markdown (see opr_analysis.extract.codebook_doc): what marks a file as ours.
SIGNATURE = "# Kodebok for OPR-uttrekket"


def register(sub) -> None:
    p = sub.add_parser(
        "codebook",
        help="skriv kodeboken (tabeller, kolonner, koder, spørsmål) som Markdown",
        description="Skriv den maskinlesbare kodeboken som Markdown (docs/codebook.md). En fil som "
        "finnes, erstattes bare hvis den er en kodebok opr har skrevet.",
    )
    p.add_argument("--out", type=path_arg, metavar="FIL", help="filen som skrives (standard: standard ut)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..extract.codebook_doc import codebook_markdown
    from ..safety.owned import check_file_target, owned_file

    if args.out is not None:
        check_file_target(args.out, SIGNATURE)
    text = codebook_markdown()
    if args.out is None:
        sys.stdout.write(text)
    else:
        with owned_file(args.out, SIGNATURE) as tmp:
            tmp.write_text(text, encoding="utf-8")
        print(f"Skrev {args.out}")
    return 0
