"""``opr codebook [--out FILE]``: the codebook as Markdown."""

from __future__ import annotations

import sys
from pathlib import Path

from ..safety.atomic import atomic_file


def register(sub) -> None:
    p = sub.add_parser(
        "codebook",
        help="write the codebook (tables, columns, codes, items) as Markdown",
        description="Render the machine-readable codebook as Markdown (docs/codebook.md).",
    )
    p.add_argument("--out", type=Path, help="file to write (default: standard output)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..extract.codebook_doc import codebook_markdown

    text = codebook_markdown()
    if args.out is None:
        sys.stdout.write(text)
    else:
        with atomic_file(args.out) as tmp:
            tmp.write_text(text, encoding="utf-8")
        print(f"Skrev {args.out}")
    return 0
