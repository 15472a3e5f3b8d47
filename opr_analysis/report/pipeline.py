"""``run_report``: validate an extract, execute the report notebook, render it, write a manifest.

Steps (each prints one line with its duration):

1. **validate** – :func:`opr_analysis.load_extract`; a bad extract stops here
   with the validator's message and nothing is written.
2. **execute** – papermill runs ``notebooks/annual_report.ipynb`` with the
   run's parameters into ``build/`` (the executed notebook is kept as the
   audit trail). The injected-parameters cell is tagged ``remove-cell`` and
   marked ``#| include: false`` so that it never shows.
3. **render** – with Quarto (``quarto`` on PATH or ``$QUARTO_PATH``): the
   executed notebook is rendered (never re-executed) with the report's
   settings (``quarto_report.yaml``, the file the root ``_quarto.yml`` reads
   too), every format in one ``quarto render`` (``pdf`` is Typst; :mod:`.quarto`).
   Without Quarto: :mod:`.fallback` renders the same executed notebook to one
   self-contained HTML document (contents, numbered sections, captions, linked
   references, print stylesheet). If DOCX or PDF was asked for, the run writes
   the HTML and the rest, says which formats could not be made and ends with
   :class:`FormatsNotMade` (exit status 1).
   Before rendering, the executed notebook's text gets no-break spaces where a
   number and its unit or interval must stay together (:mod:`.typography`).
   Units (issue 16): cells tagged ``units-chapter`` (the quality-indicator
   chapter and the per-unit switch) run only for a unit report
   (``unit=``) or an extract with more than one unit; otherwise they are left
   out of the notebook before execution, so a one-unit report is unchanged.
4. **manifest** – ``manifest.json``: parameters, SHA-256 of every input file,
   rows read/used/quarantined, package version, git commit and whether the
   working tree was dirty (read before the run writes anything, so the run's
   own temporary folder never counts), renderer and version, timings.
5. **workbook** – ``arsrapport-YYYY-tabeller.xlsx``: the report's tables for
   the staff (:mod:`.workbook`), hiding the cells the report hides: the kernel
   hands them over in a file of this run (:mod:`.handover`), so they are not
   computed twice; the manifest's ``workbook_hidden_cells`` says ``notebook``,
   or ``computed`` when the file was not there or not this run's.

Everything is written to a temporary folder beside ``out``, scanned for
national identity numbers (:func:`opr_analysis.safety.privacy.scan_outputs`) and
moved into place only when complete; on any error or SIGTERM the temporary
folder is removed and an earlier ``out`` is left as it was. ``out`` is
replaced only if ``opr report`` wrote it, and never when it is or lies above
the extract, the key store, the working folder, home or the repository
(:mod:`opr_analysis.safety.owned`); that, the year and the other parameters
are checked before the extract is read.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..imports import NBFORMAT_UNUSED, without

with without(*NBFORMAT_UNUSED):  # 1.5 s of format checkers (grammars) for formats nbformat never checks
    import nbformat

from ..errors import OprError, UsageError
from ..formatting import NBSP, fmt_int, fmt_num
from ..safety.owned import check_dir_target, owned_dir, protected_folders
from ..safety.privacy import scan_outputs
from .fallback import render_fallback
from .handover import FILE_NAME as HANDOVER_FILE
from .handover import HandOver
from .kernel import kernel_manager_class, raise_if_stopped, restored_signal_handlers
from .quarto import QUARTO_SETTINGS, QUARTO_TO, quarto_inputs, quarto_version, render_quarto
from .texts import check_glossaries, placeholder_texts, text_files
from .typography import tie_notebook, tie_title
from .workbook import write_workbook

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "annual_report.ipynb"
TEXTS = ROOT / "reports"
FORMATS = ("html", "docx", "pdf")
UNITS_TAG = "units-chapter"  # cells run only with several units or for a unit report (issue 16)

__all__ = [
    "ROOT",
    "NOTEBOOK",
    "FORMATS",
    "QUARTO_SETTINGS",
    "QUARTO_TO",
    "default_report_year",
    "find_quarto",
    "run_report",
    "render_nbconvert",
    "render_quarto",
    "quarto_version",
    "ReportRun",
    "ReportPlan",
    "FormatsNotMade",
    "execute_report",
    "plan_report",
]


@dataclass
class ReportRun:
    """What a run produced: the output folder, its files and the manifest."""

    out: Path
    files: list[Path]
    manifest: dict
    renderer: str
    timings: dict[str, float] = field(default_factory=dict)


def default_report_year(reg, as_of: dt.date | None = None) -> int:
    """The last complete calendar year before ``as_of`` (default today), or the last
    year with assessed referrals if that is earlier.

    >>> import pandas as pd
    >>> class R: referrals = pd.DataFrame({"assessed_date": pd.to_datetime(["2022-05-01", "2023-01-02"])})
    >>> default_report_year(R(), dt.date(2025, 3, 1)), default_report_year(R(), dt.date(2023, 6, 1))
    (2023, 2022)
    """
    as_of = as_of or dt.date.today()
    complete = as_of.year - 1
    dates = reg.referrals["assessed_date"].dropna()
    if dates.empty:
        return complete
    return min(complete, int(dates.dt.year.max()))


def find_quarto() -> str | None:
    """Path of the quarto binary: ``$QUARTO_PATH`` if set, else ``quarto`` on PATH."""
    env = os.environ.get("QUARTO_PATH")
    if env:
        return env if Path(env).is_file() else shutil.which(env)
    return shutil.which("quarto")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _git_commit() -> dict:
    try:
        commit = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()
        dirty = (
            subprocess.run(
                ["git", "-C", str(ROOT), "status", "--porcelain"],
                capture_output=True,
                text=True,
                check=True,
                timeout=10,
            ).stdout.strip()
            != ""
        )
        return {"git_commit": commit, "git_dirty": dirty}
    except (OSError, subprocess.SubprocessError):
        return {"git_commit": None, "git_dirty": None}


class _Steps:
    """Times each step and prints one line per step."""

    def __init__(self, log: Callable[[str], None]):
        self.log, self.timings = log, {}

    @contextlib.contextmanager
    def step(self, name: str, message: str) -> Iterator[dict]:
        start = time.perf_counter()
        info: dict = {}
        yield info
        seconds = time.perf_counter() - start
        self.timings[name] = round(seconds, 3)
        self.log(f"{info.get('message', message)} ({fmt_num(seconds)} s)".replace(NBSP, " "))


@contextlib.contextmanager
def _kernel_path() -> Iterator[None]:
    """Let the notebook's kernel import this checkout of opr_analysis (no install needed)."""
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), *([old] if old else [])])
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old


def hide_injected_parameters(nb) -> None:
    """Tag papermill's injected-parameters cell ``remove-cell`` and give it ``#| include: false``."""
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if "injected-parameters" in tags:
            cell.metadata["tags"] = list(dict.fromkeys([*tags, "remove-cell"]))
            if not cell.source.startswith("#| include: false"):
                cell.source = "#| include: false\n" + cell.source


def drop_transient_parameters(nb, names: Sequence[str]) -> None:
    """Remove the parameters ``names`` from papermill's injected-parameters cell and its record of the
    parameters (in place): they belong to one run (a temporary path, a random token), not to its audit trail,
    and two runs of the same report keep the same executed notebook."""
    if not names:
        return
    assigned = tuple(f"{name} = " for name in names)
    for cell in nb.cells:
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            cell.source = "\n".join(line for line in cell.source.split("\n") if not line.startswith(assigned))
    recorded = nb.metadata.get("papermill", {}).get("parameters", {})
    for name in names:
        recorded.pop(name, None)


# Richer forms a reader sees; beside them an output's text/plain repr is never shown.
_SHOWN_MIMES = ("text/html", "text/markdown", "image/png", "image/svg+xml")


def drop_shadowed_plain_text(nb) -> None:
    """Remove ``text/plain`` from outputs that also carry a form the report shows (in place).

    No renderer shows it there, yet it would be published in the executed notebook. A
    DataFrame's plain repr lines up counts in columns separated by spaces, which the
    identity-number scan must read as possible disguised numbers (``298664     20810``):
    dropping what nobody reads keeps such false alarms from stopping a report.
    """
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            data = out.get("data", {})
            if "text/plain" in data and any(m in data for m in _SHOWN_MIMES):
                del data["text/plain"]


def without_tagged_cells(template: Path, folder: Path, tag: str) -> Path:
    """A copy of ``template`` in ``folder`` without the cells tagged ``tag`` (the template itself if none)."""
    nb = nbformat.read(template, as_version=4)
    kept = [c for c in nb.cells if tag not in c.get("metadata", {}).get("tags", [])]
    if len(kept) == len(nb.cells):
        return template
    nb.cells = kept
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / template.name
    nbformat.write(nb, copy)
    return copy


def execute_notebook(
    template: Path, target: Path, parameters: dict, cwd: Path | None = None, transient: Sequence[str] = ()
) -> None:
    """Run ``template`` with papermill into ``target`` (kernel python3, cwd = ``cwd`` or the template's folder).
    ``transient``: parameters of this run only (the hand-over's file and token, :mod:`.handover`), left out of
    the executed notebook kept as the audit trail (:func:`drop_transient_parameters`).

    The kernel talks over IPC sockets in a private folder (:mod:`.kernel`); a
    SIGTERM/SIGINT during execution stops it and raises
    :class:`~opr_analysis.errors.Terminated`/``KeyboardInterrupt``.
    """
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    target.parent.mkdir(parents=True, exist_ok=True)
    km_class = kernel_manager_class()
    try:
        with _kernel_path(), restored_signal_handlers():
            pm.execute_notebook(
                str(template),
                str(target),
                parameters=parameters,
                kernel_name="python3",
                cwd=str(cwd or template.parent),
                progress_bar=False,
                log_output=False,
                report_mode=False,
                kernel_manager_class=km_class,
                # Written once at the end (and on an error), not at every cell's start and end: those 150
                # saves re-encoded the whole notebook, figures included, ~1 s of a scale-1 report (issue 29).
                request_save_on_cell_execute=False,
            )
    except PapermillExecutionError as exc:
        raise_if_stopped(km_class)
        raise OprError(
            f"notatboken {template.name} feilet i celle {exc.exec_count}: {exc.ename}: {exc.evalue}"
        ) from exc
    except BaseException:
        raise_if_stopped(km_class)  # a kernel stopped by SIGTERM shows as a dead kernel: say why
        raise
    raise_if_stopped(km_class)
    nb = nbformat.read(target, as_version=4)
    drop_transient_parameters(nb, transient)
    hide_injected_parameters(nb)
    drop_shadowed_plain_text(nb)
    tie_notebook(nb)
    nbformat.write(nb, target)


# --- rendering ---------------------------------------------------------------------------------


def render_nbconvert(executed: Path, target: Path, title: str) -> Path:
    """The report without Quarto: one self-contained HTML document (:mod:`.fallback`)."""
    return render_fallback(executed, target, title)


def write_report_workbook(
    reg,
    as_of: dt.date,
    path: Path,
    min_cell: int,
    title: str,
    unit: str | None = None,
    handover: HandOver | None = None,
) -> Path:
    """The tables of ``opr tables`` as the staff's Excel workbook (:mod:`.workbook`); for a unit's report,
    computed from that unit's rows, as the report's tables are. The workbook hides what the report hides:
    the cells the notebook's kernel handed over (``handover``, :mod:`.handover`) when they are this run's
    and fit; otherwise computed the same way as the notebook does (with several units or for a unit's
    report every report of the extract suppressed together, :mod:`.unit_disclosure`)."""
    from ..extract.units import for_unit, unit_table
    from ..stats.export import published_tables

    shown = for_unit(reg, unit) if unit else reg
    tables = published_tables(shown, as_of=as_of)
    masks = handover.masks(tables) if handover is not None else None  # read (and removed) whatever min_cell is
    if masks is None and (unit is not None or len(unit_table(reg)) > 1):
        from .indicator_report import unit_view  # the indicators and their models: only imported when used

        masks = unit_view(reg, unit, as_of=as_of).disclosure(min_cell).masks(unit)
    return write_workbook(tables, path, min_cell, title, masks)


class FormatsNotMade(OprError):
    """Some asked-for formats could not be made; what could be made was written."""

    def __init__(self, message: str, run: ReportRun):
        super().__init__(message)
        self.run = run


# --- the run ---------------------------------------------------------------------------------


def check_report_parameters(*, min_cell: int, years_shown: int, texts_dir: Path) -> None:
    """Raise :class:`UsageError` for a parameter no report can be made with (before any work)."""
    if min_cell < 1:
        raise UsageError(f"--min-cell må være 1 eller større (fikk {min_cell})")
    if years_shown < 1:
        raise UsageError(f"--years-shown må være 1 eller større (fikk {years_shown})")
    if not Path(texts_dir).is_dir():
        raise UsageError(f"fant ikke tekstmappen «{texts_dir}» (--texts)")
    check_glossaries(texts_dir)  # the guarded loader and the glossary's schema, before any work
    check_texts_hold_no_nin(texts_dir)


def check_texts_hold_no_nin(texts_dir: Path) -> None:
    """Raise :class:`IdentifiableDataError` naming the report text that holds an identity number.

    The texts are inputs the registry edits by hand: a number pasted into one is found here, before the
    notebook runs, with the file named. The scan of the finished report (``owned_dir``'s check) stays: it
    also covers what the data put into the pages."""
    from ..safety.privacy import scan_file

    for path in text_files(texts_dir):
        scan_file(path, path.relative_to(texts_dir).as_posix())


def report_years(reg) -> tuple[int, int] | None:
    """First and last year with assessed referrals in the extract (None if it has none)."""
    years = reg.referrals["assessed_date"].dropna().dt.year
    return (int(years.min()), int(years.max())) if len(years) else None


def check_report_year(reg, year: int, as_of: dt.date) -> None:
    """The report year must lie after the extract's first year (the report compares with the
    years before it) and no later than its last year and the date of the run.

    >>> import pandas as pd
    >>> class R: referrals = pd.DataFrame({"assessed_date": pd.to_datetime(["2021-05-01", "2023-01-02"])})
    >>> check_report_year(R(), 2023, dt.date(2025, 1, 1))
    >>> check_report_year(R(), 2021, dt.date(2025, 1, 1))
    Traceback (most recent call last):
    ...
    opr_analysis.errors.UsageError: --year 2021 er det første året i uttrekket; rapporten sammenligner med årene før, velg et år fra 2022 til 2023
    """
    if year > as_of.year:
        raise UsageError(f"rapportåret {year} ligger etter datoen for kjøringen ({as_of.isoformat()})")
    span = report_years(reg)
    if span is None:
        raise UsageError(
            "uttrekket har ingen vurderte henvisninger (assessed_date); det er ingen år å lage rapport for"
        )
    first, last = span
    if first <= year <= last and year > first:
        return
    choose = f"velg et år fra {first + 1} til {last}" if last > first else "uttrekket dekker bare ett år"
    if year == first:
        raise UsageError(
            f"--year {year} er det første året i uttrekket; rapporten sammenligner med årene før, {choose}"
        )
    raise UsageError(f"--year {year} ligger utenfor årene uttrekket dekker ({first}–{last}); {choose}")


@dataclass
class ReportPlan:
    """What a report run makes from a validated extract: its year, notebook parameters, title and file stem."""

    year: int
    parameters: dict
    title: str
    stem: str
    with_units: bool


def plan_report(
    reg,
    extract: str | os.PathLike,
    *,
    year: int | None,
    as_of: dt.date,
    years_shown: int = 3,
    min_cell: int = 5,
    texts_dir: str | os.PathLike = TEXTS,
    include_proms: bool = True,
    unit: str | None = None,
) -> ReportPlan:
    """The report year (default: :func:`default_report_year`, checked), the notebook's parameters,
    title and file stem for ``reg`` (a unit report: ``unit`` in both, and the unit's name in the title)."""
    from ..extract.units import unit_table

    year = int(year) if year is not None else default_report_year(reg, as_of)
    check_report_year(reg, year, as_of)
    parameters = {
        "extract": str(Path(extract).resolve()),
        "report_year": year,
        "as_of": as_of.isoformat(),
        "years_shown": years_shown,
        "min_cell": min_cell,
        "texts_dir": str(Path(texts_dir).resolve()),
        "include_proms": include_proms,
    }
    title = f"Årsrapport {year} for OUS smerteregister"
    stem = f"arsrapport-{year}"
    units = unit_table(reg)  # units (issue 16)
    if unit is not None:
        if unit not in set(units["unit_id"]):
            raise UsageError(f"ukjent enhet «{unit}»; enhetene i uttrekket er: {', '.join(units['unit_id'])}")
        parameters["unit"] = unit
        title += " – " + str(units.set_index("unit_id").at[unit, "name"])
        stem += f"-{unit}"
    return ReportPlan(year, parameters, tie_title(title), stem, with_units=unit is not None or len(units) > 1)


def execute_report(reg, plan: ReportPlan, executed: Path, handover: HandOver | None = None) -> None:
    """Execute the report notebook for ``plan`` into ``executed`` (papermill; :func:`execute_notebook`).

    Units (issue 16): the indicator chapter's cells (tag UNITS_TAG) are left out for a one-unit
    extract. Response-rate experiments (issue 18): the chapter is added only when the extract has
    allocations. Otherwise the template is NOTEBOOK itself and the report is unchanged. ``handover``:
    the kernel writes the report's hidden cells for the workbook (:mod:`.handover`).
    """
    from ..experiment.chapter import report_template

    transient = handover.parameters() if handover is not None else {}
    with tempfile.TemporaryDirectory(prefix="opr-report-") as scratch:
        base = NOTEBOOK if plan.with_units else without_tagged_cells(NOTEBOOK, Path(scratch) / "units", UNITS_TAG)
        template = report_template(base, reg, Path(scratch) / "experiment")
        execute_notebook(template, executed, {**plan.parameters, **transient}, NOTEBOOK.parent, list(transient))


def run_report(
    extract: str | os.PathLike = "data/synthetic",
    *,
    year: int | None = None,
    as_of: dt.date | None = None,
    formats: Sequence[str] | None = None,
    out: str | os.PathLike = "_output/report",
    min_cell: int = 5,
    years_shown: int = 3,
    texts_dir: str | os.PathLike | None = None,
    include_proms: bool = True,
    unit: str | None = None,
    log: Callable[[str], None] = print,
) -> ReportRun:
    """Produce the annual report for ``year`` from ``extract`` into ``out`` (see module docstring)."""
    from .. import __version__
    from ..extract.reader import load_extract

    started = time.perf_counter()
    git_state = _git_commit()  # before anything is written: the run's own temporary folder must not count
    steps = _Steps(log)
    out = Path(out).resolve()
    texts_dir = Path(texts_dir or TEXTS).resolve()
    quarto = find_quarto()
    formats = list(formats) if formats else (list(FORMATS) if quarto else ["html"])
    skipped = [] if quarto else [f for f in formats if f != "html"]
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise UsageError(f"ukjent format {', '.join(unknown)}; velg blant {', '.join(FORMATS)}")
    if not NOTEBOOK.is_file():
        raise OprError(f"fant ikke rapportnotatboken {NOTEBOOK}")
    check_report_parameters(min_cell=min_cell, years_shown=years_shown, texts_dir=texts_dir)
    if unit is not None:  # the id becomes part of file names: refused before any work unless it is safe there
        from ..safety.limits import FILE_NAME_ID
        from ..safety.nin import mask_nin

        if not FILE_NAME_ID.match(str(unit)):
            raise UsageError(f"«{mask_nin(str(unit))}» er ikke en gyldig enhets-ID (bokstaver, sifre, _ og -)")
    protect = protected_folders([extract])
    check_dir_target(out, "report", protect)

    with steps.step("validate", "Validerte uttrekket") as info:
        reg = load_extract(extract)
        counts = reg.report.counts()
        rep = reg.report
        read, used, quarantined = (fmt_int(n) for n in (rep.rows_read, rep.rows_used, rep.rows_quarantined))
        info["message"] = f"Validerte uttrekket {extract}: {read} rader lest, {used} brukt, {quarantined} i karantene"
        if rep.rows_erased:  # read = used + quarantined + erased: the line adds up (issue 26)
            info["message"] += f", {fmt_int(rep.rows_erased)} holdt utenfor etter krav om sletting"
    as_of = as_of or dt.date.today()
    plan = plan_report(
        reg,
        extract,
        year=year,
        as_of=as_of,
        years_shown=years_shown,
        min_cell=min_cell,
        texts_dir=texts_dir,
        include_proms=include_proms,
        unit=unit,
    )
    year, parameters, title, stem = plan.year, plan.parameters, plan.title, plan.stem
    placeholders = placeholder_texts(texts_dir, year)
    if placeholders:
        log(
            f"Advarsel: {len(placeholders)} av rapporttekstene er fortsatt plassholdere og må skrives av registeret "
            f"før rapporten publiseres: {', '.join(placeholders)} (i {texts_dir})"
        )

    # Built in a temporary folder beside ``out``, scanned for identity numbers, then swapped in.
    # Scanned for identity numbers and for the extract's implant serial numbers and lots (issue 27).
    from ..implants.identifiers import device_identifiers

    devices = device_identifiers(reg)
    with owned_dir(out, "report", check=lambda tmp: scan_outputs(tmp, devices or None), protect=protect) as work:
        executed = work / "build" / NOTEBOOK.name
        handover = HandOver(work / "build" / HANDOVER_FILE, min_cell, unit)  # the report's hidden cells
        with steps.step("execute", f"Kjørte notatboken {NOTEBOOK.name} med papermill"):
            execute_report(reg, plan, executed, handover)
        if quarto:
            renderer = {"name": "quarto", "version": quarto_version(quarto), "path": quarto}
            with steps.step("render", f"Laget {', '.join(formats)} med Quarto {renderer['version']}"):
                files = render_quarto(quarto, executed, work, formats, title, stem)
        else:
            import nbconvert

            renderer = {"name": "nbconvert", "version": nbconvert.__version__}
            log(
                "Quarto finnes ikke (verken på PATH eller i QUARTO_PATH): lager én selvstendig HTML-fil med "
                "nbconvert" + (f"; {', '.join(skipped)} lages ikke" if skipped else "")
            )
            with steps.step("render", f"Laget HTML med nbconvert {nbconvert.__version__} (uten Quarto)"):
                files = [render_nbconvert(executed, work / f"{stem}.html", title)]
        with steps.step("workbook", "Skrev tabellene til Excel"):
            workbook = work / f"{stem}-tabeller.xlsx"
            files.append(write_report_workbook(reg, as_of, workbook, min_cell, title, unit, handover))
        if reg.report.rows_quarantined:
            # The report's copy shows no identifier (ids, an implant's serial number and lot: issue 27);
            # `opr validate --quarantine` writes the rows whole.
            reg.report.write_quarantine(work / "karantene", hide_identifiers=True)
        timings = {**steps.timings, "total": round(time.perf_counter() - started, 3)}
        manifest = {
            "created": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "parameters": parameters,
            "formats": formats,
            "extract": {
                "path": str(Path(extract).resolve()),
                "files_sha256": reg.input_hashes(),
                "rows": counts.to_dict(orient="records"),
            },
            "inputs_sha256": {
                str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else str(p): _sha256(p)
                for p in [NOTEBOOK, *(quarto_inputs() if quarto else []), *text_files(texts_dir)]
                if p.is_file()
            },
            "package": {"name": "opr-analysis", "version": __version__, **git_state},
            "python": platform.python_version(),
            "renderer": renderer,
            "outputs_sha256": {p.name: _sha256(p) for p in files},
            "executed_notebook": f"build/{NOTEBOOK.name}",
            "workbook_hidden_cells": "notebook" if handover.used else "computed",
            "timings_seconds": timings,
        }
        (work / "manifest.json").write_text(
            json.dumps(manifest, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8"
        )
    final = [out / p.name for p in files]
    log(
        f"Rapporten ligger i {out}: {', '.join(p.name for p in final)}, manifest.json og build/ "
        f"({fmt_num(timings['total'])} s i alt)".replace(NBSP, " ")
    )
    run = ReportRun(out=out, files=final, manifest=manifest, renderer=renderer["name"], timings=timings)
    if skipped:
        raise FormatsNotMade(
            f"{', '.join(f.upper() for f in skipped)} ble ikke laget fordi Quarto mangler (installer Quarto 1.7 "
            f"eller nyere, eller sett QUARTO_PATH); HTML-utgaven ligger i {out}",
            run,
        )
    return run
