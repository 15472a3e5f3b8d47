"""One delivery: spec + extract -> a folder of files for the recipient.

:func:`deliver` reads and validates the extract, selects the spec's
enrolments, builds one pseudonymised file per level, checks k-anonymity
(refusing or generalising), writes the data files, codebook, README, a copy
of the spec, the rendered documentation and ``manifest.json`` into a temporary
folder, scans it for original ids and moves it into place in one step. Then it
records the delivery and the keyed hashes of its patients in the delivery
register (:mod:`opr_analysis.rights.register`, patients' rights) and appends one
line to the delivery log; both live outside the delivery.

Byte identity: the same spec, key and extract give byte-identical files,
the rendered ``documentation.html`` included where nbconvert renders it
(Quarto output is listed in the manifest's ``not_reproducible`` instead).

>>> deliver("reports/extracts/examples/sovn.yaml", "data/synthetic", "_output/extracts/sovn")  # doctest: +SKIP
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..errors import IdentifiableDataError, UsageError
from ..rights.register import check_register, delivery_entry, record_delivery
from ..safety.owned import check_dir_target, owned_dir, protected_folders
from ..safety.privacy import scan_outputs
from . import disclosure as dc
from .docs import codebook_html, docs_context, readme, render_notebook, variable_summary
from .log_format import LOG_FIELDS
from .pseudonyms import project_key, pseudonym, pseudonymise
from .select import base_frames, select_enrolments
from .spec import LEVELS, Spec, load_spec
from .variables import (
    KEY_COLUMNS,
    Context,
    Settings,
    Variable,
    classify,
    coarsen,
    not_identifying_reason,
    resolve,
    with_settings,
)
from .writers import ColumnMeta, write

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "research_extract.ipynb"
ID_KIND = {
    "treatments": ("treatment", "_treatment_id", "treatment_no"),
    "followups": ("followup", "_followup_id", "followup_no"),
    "baseline_responses": ("response", "_response_id", "response_no"),
    "implants": ("implant", "_implant_id", "implant_no"),
}
KEY_META = {
    "pid": ColumnMeta("pid", "Pseudonym for pasienten (prosjektspesifikk)", "string", disclosure="pseudonym"),
    "enrolment_seq": ColumnMeta("enrolment_seq", "Innskrivingens nummer for pasienten (1 = første)", "int"),
    "treatment_no": ColumnMeta("treatment_no", "Behandlingens løpenummer for pasienten", "int"),
    "followup_no": ColumnMeta("followup_no", "Oppfølgingsskjemaets løpenummer for pasienten", "int"),
    "response_no": ColumnMeta("response_no", "Baselinebesvarelsens løpenummer for pasienten", "int"),
    "implant_no": ColumnMeta("implant_no", "Implantatkomponentens løpenummer for pasienten", "int"),
}


@dataclass
class Delivery:
    """What :func:`deliver` produced."""

    folder: Path
    files: dict[str, str]
    patients: int
    enrolments: int
    manifest_sha256: str
    generalised: list[str]
    log: Path


def _build_level(
    level: str, frame: pd.DataFrame, names: tuple[str, ...], settings: Settings, reg, cache: dict
) -> tuple[pd.DataFrame, list[ColumnMeta], dict[str, str]]:
    """The delivered frame of one level (keys first), its column metadata and variable -> column."""
    ctx = Context(frame=frame, reg=reg, settings=settings, cache=cache)
    out = {k: frame[f"__{k}"] for k in KEY_COLUMNS[level]}
    meta = [KEY_META[k] for k in KEY_COLUMNS[level]]
    columns: dict[str, str] = {}
    for name in names:
        var: Variable = resolve(name, level)
        if settings.age_as_band and var.name == "age_at_enrolment":
            var = resolve("age_band", level)
        if var.name == "region" and settings.drop_region:
            continue
        if var.column in out:
            continue
        values = var.compute(ctx)
        delivered = with_settings(var, settings)
        if var.kind == "date":
            values = coarsen(values, frame["_granted"], settings, var.role)
        codes = delivered.codes
        if delivered.kind == "code" and not codes:
            codes = {str(c): str(c) for c in values.cat.categories}
        out[var.column] = pd.Series(values.to_numpy(), index=frame.index)
        ordered = isinstance(values.dtype, pd.CategoricalDtype) and bool(values.dtype.ordered)
        meta.append(
            ColumnMeta(
                var.column,
                delivered.label,
                delivered.kind,
                dict(codes),
                disclosure=classify(var, settings),
                why=not_identifying_reason(var, settings),
                ordered=ordered,
            )
        )
        columns[name] = var.column
    data = pd.DataFrame(out, index=frame.index)
    data = data.sort_values(list(KEY_COLUMNS[level]), kind="stable").reset_index(drop=True)
    return data, meta, columns


def _keys(frames: dict[str, pd.DataFrame], keep: pd.Series, key: bytes) -> dict[str, pd.DataFrame]:
    """Included rows of every level with pseudonymous key columns ``__pid``, ``__enrolment_seq``, ..."""
    enr = frames["enrolments"][keep.to_numpy()].copy()
    enr["__pid"] = pseudonymise(key, "patient", enr["_patient_id"]).to_numpy()
    enr["__enrolment_seq"] = enr["_seq"].to_numpy()
    out = {"enrolments": enr}
    seq = dict(zip(enr["_enrolment_id"], enr["_seq"], strict=True))
    granted = dict(zip(enr["_enrolment_id"], enr["_granted"], strict=True))
    for level, (kind, id_col, no_col) in ID_KIND.items():
        f = frames[level]
        f = f[f["_enrolment_id"].isin(seq.keys())].copy()
        f["__pid"] = pseudonymise(key, "patient", f["_patient_id"]).to_numpy()
        f["__enrolment_seq"] = f["_enrolment_id"].map(seq).astype("Int64")
        f["_granted"] = f["_enrolment_id"].map(granted).astype("datetime64[ns]")
        f["_tie"] = [pseudonym(key, kind, v) for v in f[id_col]]
        f = f.sort_values(["_patient_id", "_date", "_tie"], kind="stable")
        f[f"__{no_col}"] = (f.groupby("_patient_id").cumcount() + 1).astype("Int64")
        out[level] = f
    t = out["treatments"]
    tno = dict(zip(t["_treatment_id"], t["__treatment_no"], strict=True))
    out["followups"]["_treatment_no"] = out["followups"]["_anchor_id"].map(tno).astype("Int64")
    out["implants"]["_treatment_no"] = out["implants"]["_treatment_id"].map(tno).astype("Int64")
    return out


def _qi_columns(
    spec: Spec, level: str, names: tuple[str, ...], columns: dict[str, str], settings: Settings
) -> list[str]:
    """The delivered columns of one file that are quasi-identifiers: the codebook's, plus any the spec adds."""
    added = set(spec.disclosure.quasi_identifiers or ())
    out = []
    for n in names:
        col = columns.get(n)
        if not col or col in out:
            continue
        var = resolve(col if col == "age_band" else n, level)
        if classify(var, settings) == "quasi_identifier" or n in added or col in added:
            out.append(col)
    return out


def _qi_roles(spec: Spec, settings: Settings) -> set[str]:
    """What the generalisation ladder can act on: roles of delivered quasi-identifiers, "date" for dates."""
    roles = set()
    for level in LEVELS:
        for n in spec.variables.get(level, ()):
            var = resolve(n, level)
            if var.role:
                roles.add(var.role)
            if var.kind == "date":
                roles.add("date")
    return roles


def build(spec: Spec, reg, key: bytes) -> dict:
    """Every delivered frame after selection and disclosure control (nothing written)."""
    frames = base_frames(reg)
    keep, flow = select_enrolments(frames["enrolments"], frames, spec)
    keyed = _keys(frames, keep, key)
    years = keyed["enrolments"]["_granted"].dt.year
    min_age = spec.inclusion.age[0] if spec.inclusion.age else None
    settings = Settings(
        dates=spec.dates,
        age_band_width=spec.disclosure.age_band_width,
        age_floor=int(min_age or 0),
        period_label=f"{years.min()}–{years.max()}",
    )
    roles = _qi_roles(spec, settings)
    cache: dict = {}
    tried: list[str] = []
    violations_before = None
    ladder = list(spec.disclosure.generalise)
    dropped: set = set()
    while True:
        files, qis = {}, {}
        for level in LEVELS:
            names = spec.variables.get(level, ())
            if level != "enrolments" and not names:
                continue
            rows = keyed[level][~keyed[level]["__pid"].isin(dropped)] if dropped else keyed[level]
            d, m, columns = _build_level(level, rows, names, settings, reg, cache)
            files[level] = (d, m)
            qis[level] = _qi_columns(spec, level, names, columns, settings)
        bad = dc.joined_k_violations({lv: (files[lv][0], qis[lv]) for lv in files}, spec.disclosure.k)
        shown_qis = [f"{lv}.{c}" for lv in files for c in qis[lv]]
        if violations_before is None:
            violations_before = len(bad)
        if bad.empty:
            break
        if spec.disclosure.on_violation == "refuse":
            raise dc.refusal(bad, shown_qis, spec.disclosure.k, [])
        nxt = None
        while ladder and nxt is None:
            step = ladder.pop(0)
            if step == "drop_rare_patients":
                nxt = settings  # local suppression: leave out the patients still unique, once
                rare = dc.rare_patients({lv: (files[lv][0], qis[lv]) for lv in files}, spec.disclosure.k)
                dropped |= rare
                left = int((~keyed["enrolments"]["__pid"].isin(dropped)).sum())
                flow.append(
                    (f"pasienter med en samlet post som færre enn k = {spec.disclosure.k} deler, utelatt", left)
                )
            else:
                nxt = dc.generalise(settings, step, roles)
        if nxt is None:
            raise dc.refusal(bad, shown_qis, spec.disclosure.k, tried)
        tried.append(step)
        settings = nxt
    data = files["enrolments"][0]
    qis = shown_qis
    disclosure = {
        "k": spec.disclosure.k,
        "min_cell": spec.disclosure.min_cell,
        "quasi_identifiers": qis,
        "on_violation": spec.disclosure.on_violation,
        "violations_before": int(violations_before),
        "generalised": tried,
        "generalised_text": [dc.STEP_TEXT[s] for s in tried],
        "dates": settings.dates,
        "age_band_width": settings.age_band_width,
        "not_identifying": {f"{lv}.{m.name}": m.why for lv, (_, meta) in files.items() for m in meta if m.why},
    }
    counts = {"patients": int(data["pid"].nunique()), "enrolments": int(len(data))}
    counts.update({level: int(len(d)) for level, (d, _) in files.items()})
    # The delivered patients' original ids, for the delivery register only (issue 26); never written.
    held = keyed["enrolments"][keyed["enrolments"]["__pid"].isin(set(data["pid"]))]
    return {
        "files": files,
        "flow": flow,
        "disclosure": disclosure,
        "counts": counts,
        "settings": settings,
        "frames": frames,
        "patient_ids": sorted(set(held["_patient_id"].astype(str))),
    }


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def git_commit() -> str | None:
    """The source checkout's commit (with ``-dirty`` if modified), or None."""
    root = Path(__file__).resolve().parents[2]
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True)
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return head.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def _original_ids(frames: dict[str, pd.DataFrame]) -> set[str]:
    ids: set[str] = set()
    for f in frames.values():
        for c in ("_patient_id", "_enrolment_id", "_treatment_id", "_followup_id", "_response_id", "_implant_id"):
            if c in f:
                ids.update(str(v) for v in f[c].dropna())
    return ids


def _check_no_ids(files: dict, ids: set[str]) -> None:
    """Structural guard: no delivered cell equals an original id."""
    for level, (data, _) in files.items():
        for col in data.columns:
            if data[col].dtype == object or str(data[col].dtype) == "string":
                hit = data[col].dropna().astype(str).isin(ids)
                if hit.any():
                    raise IdentifiableDataError(
                        f"intern feil: kolonnen {level}.{col} inneholder original-id-er; ingenting er levert"
                    )


def deliver(
    spec_path, extract, out, log: Path | None = None, key_dir: Path | None = None, docs: bool = True
) -> Delivery:
    """Make the delivery of ``spec_path`` from ``extract`` in folder ``out`` (replaced if present)."""
    from .. import __version__
    from ..extract.reader import load_extract

    out = Path(out)
    protect = protected_folders([extract], [key_dir])
    check_dir_target(out, "extract", protect)
    log_path = Path(log) if log else default_log(key_dir)
    check_log(log_path, out)
    check_register(log_path)  # patients' rights (issue 26): the register beside the log
    spec = load_spec(spec_path)
    reg = load_extract(extract)
    key, key_source = project_key(spec.project, key_dir)
    built = build(spec, reg, key)
    files = built["files"]
    ids = _original_ids(built["frames"])
    _check_no_ids(files, ids)
    # An implant's serial number and lot are direct identifiers (codebook): the scan looks for them too.
    from ..implants.identifiers import device_identifiers

    ids |= device_identifiers(reg)

    # Written to a temporary folder beside ``out``; every file (manifest included) is scanned for
    # identity numbers and the extract's original ids before the folder is moved into place.
    with owned_dir(out, "extract", check=lambda tmp: scan_outputs(tmp, ids), protect=protect) as tmp:
        written: list[Path] = []
        for level, (data, meta) in files.items():
            for fmt in spec.formats:
                written.append(write(data, meta, tmp / level, fmt, title=spec.title))
        summary = variable_summary(files, spec.disclosure.min_cell)
        summary.to_csv(tmp / "codebook.csv", index=False, lineterminator="\n", encoding="utf-8")
        (tmp / "codebook.html").write_text(codebook_html(summary, spec.title), encoding="utf-8")
        (tmp / "spec.yaml").write_bytes(spec.source_bytes)
        names = sorted(
            [p.name for p in written]
            + ["codebook.csv", "codebook.html", "spec.yaml"]
            + (["documentation.html"] if docs else [])
        )
        text = readme(
            spec,
            names + ["README.md", "manifest.json"],
            built["counts"],
            built["flow"],
            built["disclosure"],
            __version__,
        )
        (tmp / "README.md").write_text(text, encoding="utf-8")
        not_reproducible = []
        if docs:
            render_notebook(
                NOTEBOOK,
                {
                    "delivery_dir": str(tmp.resolve()),
                    "context_json": docs_context(built["counts"], built["flow"], built["disclosure"]),
                },
                tmp / "documentation.html",
                title=f"Dokumentasjon av utleveringen: {spec.title}",
            )
            if os.environ.get("QUARTO_PATH") or shutil.which("quarto"):
                not_reproducible.append("documentation.html")
        manifest = {
            "project": spec.project,
            "title": spec.title,
            "package": "opr-analysis",
            "version": __version__,
            "git_commit": git_commit(),
            "spec_sha256": hashlib.sha256(spec.source_bytes).hexdigest(),
            "key_source": key_source,
            "input": dict(sorted(reg.input_hashes().items())),
            "counts": built["counts"],
            "selection": [{"criterion": label, "enrolments": n} for label, n in built["flow"]],
            "disclosure": {k: v for k, v in built["disclosure"].items() if k != "generalised_text"},
            "files": {p.name: _sha256(p) for p in sorted(tmp.iterdir())},
            "not_reproducible": not_reproducible,
        }
        body = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=False) + "\n"
        (tmp / "manifest.json").write_text(body, encoding="utf-8")
    manifest_sha = hashlib.sha256(body.encode("utf-8")).hexdigest()
    when = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    # --- patients' rights (issue 26): which patients the delivery held, as keyed hashes beside the log ---
    entry = delivery_entry(spec, built["counts"], manifest_sha, out, when)
    record_delivery(log_path, entry, built["patient_ids"], key_dir)
    # --- end patients' rights ---
    append_log(log_path, spec, built["counts"], manifest_sha, out, when=when)
    return Delivery(
        out,
        manifest["files"],
        built["counts"]["patients"],
        built["counts"]["enrolments"],
        manifest_sha,
        built["disclosure"]["generalised"],
        log_path,
    )


LOG_NAME = "delivery-log.csv"


def default_log(key_dir: Path | None = None) -> Path:
    """The delivery log: ``delivery-log.csv`` next to the key store (for the default ``keys/``, at the
    repository root, git-ignored). No run ever replaces that folder: it lies above the key store."""
    from .pseudonyms import default_key_dir

    return Path(key_dir or default_key_dir()).resolve().parent / LOG_NAME


def check_log(path: Path, out: Path) -> None:
    """Refuse a log inside a folder some run replaces (the delivery, or any folder opr owns) and
    a file that is not a delivery log (it would be appended to)."""
    from ..safety.owned import MARKER

    p, o = Path(path).resolve(), Path(out).resolve()
    if p == o or o in p.parents:
        raise UsageError(f"leveranseloggen «{path}» kan ikke ligge i leveransemappen «{out}», som erstattes hver gang")
    for folder in p.parents:
        if (folder / MARKER).is_file():
            raise UsageError(
                f"leveranseloggen «{path}» ligger i «{folder}», som opr erstatter ved neste kjøring; "
                "legg den utenfor (standard: ved siden av nøkkellageret)"
            )
    if p.is_dir():
        raise UsageError(f"leveranseloggen «{path}» er en mappe; oppgi en fil")
    if p.is_file() and p.stat().st_size:
        with open(p, encoding="utf-8", errors="replace") as fh:
            first = fh.readline().rstrip("\r\n")
        if first != ",".join(LOG_FIELDS):
            raise UsageError(
                f"«{path}» er ikke en leveranselogg fra opr (første linje er en annen); opr legger ikke til i den"
            )


def append_log(path: Path, spec: Spec, counts: dict, manifest_sha: str, folder: Path, when: str | None = None) -> None:
    """Append one line (CSV) to the delivery log, writing the header for a new log (``when``: the
    delivery's time as recorded in the delivery register, default now).

    Append-only: existing lines are never rewritten; concurrent deliveries take
    the log's lock (:func:`opr_analysis.safety.owned.output_lock`) so lines never interleave.
    """
    from ..safety.owned import output_lock

    path.parent.mkdir(parents=True, exist_ok=True)
    with output_lock(path), open(path, "a", encoding="utf-8", newline="") as fh:
        new = fh.tell() == 0
        w = csv.writer(fh, lineterminator="\n")
        if new:
            w.writerow(LOG_FIELDS)
        w.writerow(
            [
                when or dt.datetime.now().astimezone().isoformat(timespec="seconds"),
                spec.project,
                ";".join(f"{lvl}:{v}" for lvl in LEVELS for v in spec.variables.get(lvl, ())),
                counts["patients"],
                counts["enrolments"],
                manifest_sha,
                str(folder),
            ]
        )


__all__ = ["Delivery", "deliver", "build", "append_log", "git_commit"]
