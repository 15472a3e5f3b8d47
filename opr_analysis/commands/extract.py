"""``opr extract SPEC --extract DIR --out DIR``: deliver a research extract."""

from __future__ import annotations

from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser(
        "extract",
        help="deliver a research extract from a reviewed spec file",
        description="Deliver the research extract that SPEC (YAML) describes: pseudonymised data files "
        "(CSV, Parquet, SPSS, Stata, Excel) with labels, codebook, README, a copy of the spec, rendered "
        "documentation and manifest.json with SHA-256 of every file. The same spec, key and extract give "
        "byte-identical files. The project's key comes from OPR_EXTRACT_KEY_<PROJECT>, OPR_EXTRACT_KEY or "
        "the key store (OPR_KEY_DIR or keys/ at the repository root; created on first use, mode 0600). "
        "Exit status 0: delivered; 1: extract unusable or delivery refused (k-anonymity); 2: bad spec.",
    )
    p.add_argument("spec", type=Path, help="the delivery spec (YAML; see reports/extracts/examples/)")
    p.add_argument("--extract", type=Path, required=True, metavar="DIR", help="folder holding the registry extract")
    p.add_argument(
        "--out", type=Path, required=True, metavar="DIR", help="the delivery folder (created or replaced as a whole)"
    )
    p.add_argument(
        "--log",
        type=Path,
        metavar="FILE",
        help="delivery log to append to (default: delivery-log.csv beside the delivery folder)",
    )
    p.add_argument("--key-dir", type=Path, metavar="DIR", help="key store folder (default: $OPR_KEY_DIR or keys/)")
    p.add_argument("--no-docs", action="store_true", help="skip executing and rendering the documentation notebook")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..extracts import deliver

    d = deliver(args.spec, args.extract, args.out, log=args.log, key_dir=args.key_dir, docs=not args.no_docs)
    gen = f" Generalisert: {', '.join(d.generalised)}." if d.generalised else ""
    print(f"Levert {d.enrolments} innskrivinger ({d.patients} pasienter) i {len(d.files)} filer til {d.folder}.{gen}")
    print(f"Manifest SHA-256 {d.manifest_sha256}; loggført i {d.log}.")
    return 0
