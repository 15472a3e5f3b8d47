"""``opr experiment plan|allocate|analyse SPEC --extract DIR``: a response-rate experiment.

Every output folder is written whole (temporary folder, scanned for identity
numbers, then moved into place) and holds ``experiment.json``; an existing
folder is replaced only when that file shows it is this experiment's output of
the same step. The allocation step refuses a spec whose bytes differ from the
one the list was started with (the design is fixed once patients are allocated),
and a seed that differs from the one it was started with (a replaced key store).

The whole allocation step (read the earlier list, allocate, write the new list)
runs under the output folder's lock (:func:`opr_analysis.safety.owned.output_lock`):
two runs on the same ``--out`` at the same time take turns, so the second
reads the list the first wrote and only appends; no allocation is lost or
changed. The seed comes from the key store (:mod:`opr_analysis.experiment.seed`).
"""

from __future__ import annotations

import json
from pathlib import Path

from ._dates import as_of_date, load_with_summary
from ._options import path_arg

MARKER = "experiment.json"


def register(sub) -> None:
    p = sub.add_parser(
        "experiment",
        help="planlegg, randomiser og analyser et forsøk med kort oppfølgingsskjema (kort mot fullt)",
        description="Et randomisert forsøk i registeret (datakontrakt v1.1): SPEC er en gjennomgått YAML-fil "
        "(se reports/experiments/examples/). «plan» gir utvalgsstørrelsen og hvor mange måneders "
        "oppfølgingsflyt som trengs; «allocate» skriver den skjulte, reproduserbare randomiseringslisten; "
        "«analyse» gir flyten per gruppe, resultater etter intention to treat og per protokoll og en "
        "konklusjon i klart språk.",
    )
    steps = p.add_subparsers(dest="step", metavar="STEP", required=True)
    for name, text in (
        ("plan", "utvalgsstørrelse og måneder som trengs; skrives ut, og til --out om den er gitt"),
        ("allocate", "utvid randomiseringslisten i --out (permuterte blokker innen strata)"),
        ("analyse", "analyser forsøket; skrives ut, og til --out om den er gitt"),
    ):
        s = steps.add_parser(name, help=text, description=text)
        s.add_argument("spec", type=path_arg, help="forsøkets spesifikasjon (YAML)")
        s.add_argument("--extract", type=path_arg, required=True, metavar="MAPPE", help="mappen med uttrekket")
        s.add_argument(
            "--out",
            type=path_arg,
            required=name == "allocate",
            metavar="MAPPE",
            help="mappen som skrives (erstattes som helhet)",
        )
        if name == "allocate":
            s.add_argument(
                "--key-dir",
                type=path_arg,
                metavar="MAPPE",
                help="nøkkellageret der randomiseringsfrøet ligger (standard: $OPR_KEY_DIR eller keys/)",
            )
        s.add_argument(
            "--as-of",
            metavar="DATO",
            help="datoen for kjøringen (ÅÅÅÅ-MM-DD eller DD.MM.ÅÅÅÅ; standard i dag): "
            + {
                "plan": "de siste årene er de hele årene før den",
                "allocate": "skrives som randomiseringsdato for nye rader",
                "analyse": "oppfølginger som forfaller etter den er ennå ikke skyldige",
            }[name],
        )
        s.set_defaults(func=run)


def run(args) -> int:
    from ..experiment import load_spec
    from ..safety.owned import check_dir_target, check_key_store, protected_folders

    as_of = as_of_date(args.as_of)
    spec = load_spec(args.spec)
    check_key_store(getattr(args, "key_dir", None), [args.extract], [args.out])
    if args.out is not None:  # refused before the extract is read
        protect = protected_folders([args.extract], [getattr(args, "key_dir", None)])
        check_owned(args.out, spec, args.step)
        check_dir_target(args.out, f"experiment {args.step}", protect)
    reg = load_with_summary(args.extract)
    return {"plan": _plan, "allocate": _allocate, "analyse": _analyse}[args.step](args, spec, reg, as_of)


def _marker(spec, step: str, **extra) -> str:
    info = {"experiment_id": spec.id, "step": step, "spec_sha256": spec.sha256, **extra}
    return json.dumps(info, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def check_owned(out: Path, spec, step: str) -> dict | None:
    """The earlier run's marker, if ``out`` is ours; :class:`UsageError` if it is someone else's."""
    from ..errors import UsageError

    if not out.exists():
        return None
    if not out.is_dir():
        raise UsageError(f"{out} finnes og er ikke en mappe; velg en annen --out")
    if not any(out.iterdir()):
        return None
    try:
        info = json.loads((out / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        info = None
    if not isinstance(info, dict) or info.get("experiment_id") != spec.id or info.get("step") != step:
        raise UsageError(
            f"{out} inneholder filer som ikke er skrevet av «opr experiment {step}» for {spec.id}; "
            "ingenting er endret. Velg en ny mappe"
        )
    return info


def _write(out: Path, files: dict[str, bytes], extract=None, step: str = "", key_dir=None) -> None:
    """Replace ``out`` as a whole, under the same owned-folder, lock and privacy-scan rules as every output."""
    from ..safety.owned import owned_dir, protected_folders
    from ..safety.privacy import scan_outputs

    command = f"experiment {step}".strip()
    protect = protected_folders([extract], [key_dir])
    with owned_dir(out, command, check=scan_outputs, protect=protect) as tmp:
        for name, data in files.items():
            (tmp / name).write_bytes(data)


def _plan(args, spec, reg, as_of) -> int:
    from ..experiment.plan import make_plan, plan_markdown

    plan = make_plan(spec, reg, as_of)
    text = plan_markdown(plan, spec)
    print(text, end="")
    if args.out:
        check_owned(args.out, spec, "plan")
        _write(
            args.out,
            {
                "plan.md": text.encode("utf-8"),
                "plan.json": (json.dumps(plan.as_dict(), indent=2, ensure_ascii=False) + "\n").encode("utf-8"),
                MARKER: _marker(spec, "plan", as_of=plan.as_of).encode("utf-8"),
            },
            extract=args.extract,
            step="plan",
        )
        print(f"Skrev planen til {args.out}.")
    return 0


def _allocate(args, spec, reg, as_of) -> int:
    from ..errors import UsageError
    from ..experiment.allocate import allocate, list_bytes, read_list
    from ..experiment.seed import allocation_seed, seed_fingerprint
    from ..safety.owned import output_lock

    key_dir = getattr(args, "key_dir", None)
    with output_lock(args.out):  # read, allocate and write as one step (module docstring)
        info = check_owned(args.out, spec, "allocate")
        seed, _ = allocation_seed(spec.id, key_dir)
        fingerprint = seed_fingerprint(spec.id, seed)
        if info and info.get("spec_sha256") != spec.sha256:
            raise UsageError(
                f"{spec.id}: spesifikasjonen er endret siden listen i {args.out} ble startet; en randomisering kan "
                "ikke endres underveis. Bruk den opprinnelige filen (eller start et nytt eksperiment med ny id)"
            )
        if info and info.get("seed_sha256", fingerprint) != fingerprint:
            raise UsageError(
                f"{spec.id}: randomiseringsfrøet i nøkkellageret er et annet enn det listen i {args.out} ble startet "
                "med (er nøkkellageret byttet ut?); listen kan ikke utvides med et annet frø. Legg tilbake frøfilen"
            )
        earlier = read_list(args.out / "allocations.csv", spec.id) if info else None
        rows = allocate(spec, reg, earlier, as_of, seed=seed)
        known = set() if earlier is None else set(earlier["patient_id"])
        table = reg.allocations
        known |= set(table.loc[table["experiment_id"].astype(str) == spec.id, "patient_id"].astype(str))
        new = int((~rows["patient_id"].isin(known)).sum())
        _write(
            args.out,
            {
                "allocations.csv": list_bytes(rows),
                MARKER: _marker(spec, "allocate", rows=len(rows), seed_sha256=fingerprint).encode("utf-8"),
            },
            extract=args.extract,
            step="allocate",
            key_dir=key_dir,
        )
    counts = rows["arm"].value_counts()
    print(
        f"Randomiseringslisten {args.out / 'allocations.csv'}: {len(rows)} pasienter ({new} nye), "
        f"full {int(counts.get('full', 0))}, kort {int(counts.get('kort', 0))}."
    )
    return 0


def _analyse(args, spec, reg, as_of) -> int:
    from ..errors import UsageError
    from ..experiment.analyse import analyse, result_markdown

    if reg.allocations.empty or not (reg.allocations["experiment_id"].astype(str) == spec.id).any():
        raise UsageError(f"uttrekket har ingen randomiseringer (allocations) for eksperimentet {spec.id}")
    res = analyse(reg, spec, as_of)
    text = f"# Resultater for eksperimentet {spec.id}\n\n" + result_markdown(res)
    print(text, end="")
    if args.out:
        check_owned(args.out, spec, "analyse")
        shares = res.itt.assign(population="itt")
        pp = res.per_protocol.assign(population="per_protokoll")
        import pandas as pd

        _write(
            args.out,
            {
                "analysis.md": text.encode("utf-8"),
                "flow.csv": res.flow.to_csv(index=False, lineterminator="\n").encode("utf-8"),
                "shares.csv": pd.concat([shares, pp]).to_csv(index=False, lineterminator="\n").encode("utf-8"),
                MARKER: _marker(spec, "analyse", as_of=res.as_of).encode("utf-8"),
            },
            extract=args.extract,
            step="analyse",
        )
        print(f"Skrev analysen til {args.out}.")
    return 0
