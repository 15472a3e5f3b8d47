"""``run_report``: validate an extract, execute the report notebook, render it, write a manifest.

Steps (each prints one line with its duration):

1. **validate** – :func:`opr_analysis.load_extract`; a bad extract stops here
   with the validator's message and nothing is written.
2. **execute** – papermill runs ``notebooks/annual_report.ipynb`` with the
   run's parameters into ``build/`` (the executed notebook is kept as the
   audit trail). The injected-parameters cell is tagged ``remove-cell`` and
   marked ``#| include: false`` so that it never shows.
3. **render** – with Quarto (``quarto`` on PATH or ``$QUARTO_PATH``): the
   executed notebook is rendered (never re-executed) with the root
   ``_quarto.yml``, one ``quarto render --to`` per format (``pdf`` is Typst).
   Without Quarto: nbconvert renders the same executed notebook to one
   self-contained HTML file, with a small Quarto-compatibility pass
   (captions «Tabell N»/«Figur N» and ``@tbl-``/``@fig-`` references).
   Units (issue 16): cells tagged ``units-chapter`` (the quality-indicator
   chapter and the per-unit switch) run only for a unit report
   (``unit=``) or an extract with more than one unit; otherwise they are left
   out of the notebook before execution, so a one-unit report is unchanged.
4. **manifest** – ``manifest.json``: parameters, SHA-256 of every input file,
   rows read/used/quarantined, package version and git commit, renderer and
   version, timings.

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
import html
import json
import os
import platform
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from ..errors import OprError, UsageError
from ..formatting import NBSP, fmt_int, fmt_num
from ..safety.owned import check_dir_target, owned_dir, protected_folders
from ..safety.privacy import scan_outputs
from .kernel import kernel_manager_class, raise_if_stopped, restored_signal_handlers
from .texts import text_files

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "annual_report.ipynb"
QUARTO_CONFIG = ROOT / "_quarto.yml"
TEXTS = ROOT / "reports"
FORMATS = ("html", "docx", "pdf")
QUARTO_TO = {"html": "html", "docx": "docx", "pdf": "typst"}
REMOVE_TAGS = {"remove-cell", "injected-parameters", "parameters"}
UNITS_TAG = "units-chapter"  # cells run only with several units or for a unit report (issue 16)

__all__ = ["ROOT", "NOTEBOOK", "FORMATS", "default_report_year", "find_quarto", "run_report", "ReportRun"]


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


def execute_notebook(template: Path, target: Path, parameters: dict, cwd: Path | None = None) -> None:
    """Run ``template`` with papermill into ``target`` (kernel python3, cwd = ``cwd`` or the template's folder).

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
    hide_injected_parameters(nb)
    nbformat.write(nb, target)


# --- rendering -------------------------------------------------------------------------------


def quarto_version(quarto: str) -> str:
    return subprocess.run([quarto, "--version"], capture_output=True, text=True, check=True, timeout=60).stdout.strip()


def render_quarto(quarto: str, executed: Path, work: Path, formats: Sequence[str], title: str, stem: str) -> list[Path]:
    """Render the executed notebook with the root ``_quarto.yml``; no execution, no ``-P``."""
    project = work / "quarto"
    (project / "notebooks").mkdir(parents=True)
    shutil.copy2(QUARTO_CONFIG, project / "_quarto.yml")
    nb_rel = Path("notebooks") / executed.name
    shutil.copy2(executed, project / nb_rel)
    produced = []
    for fmt in formats:
        cmd = [quarto, "render", str(nb_rel), "--to", QUARTO_TO[fmt], "--no-execute", "-M", f"title:{title}"]
        done = subprocess.run(cmd, cwd=project, capture_output=True, text=True)
        if done.returncode != 0:
            raise OprError(f"quarto render --to {QUARTO_TO[fmt]} feilet:\n{done.stderr.strip()[-2000:]}")
        ext = {"html": ".html", "docx": ".docx", "pdf": ".pdf"}[fmt]
        found = sorted(project.rglob(f"{executed.stem}{ext}"))
        if not found:
            raise OprError(f"quarto laget ingen {ext}-fil")
        target = work / f"{stem}{ext}"
        shutil.move(found[0], target)
        produced.append(target)
    shutil.rmtree(project)
    return produced


_LABEL = re.compile(r"^#\|\s*label:\s*(?P<v>\S+)\s*$", re.M)
_CAP = re.compile(r"^#\|\s*(?P<kind>tbl|fig)-cap:\s*(?P<v>.+?)\s*$", re.M)
_INCLUDE_FALSE = re.compile(r"^#\|\s*include:\s*false\s*$", re.M)
_REF = re.compile(r"@(?P<cap>[Tt]bl|[Ff]ig)-(?P<name>[\w-]+)")
_HEADING_ATTR = re.compile(r"^(#+ .*?)[ \t]*\{[^}\n]*\}[ \t]*$", re.M)
_CDN_SCRIPT = re.compile(r'<script[^>]*src="https?://[^"]*"[^>]*>\s*</script>\s*')
CAPTION_WORD = {"tbl": "Tabell", "fig": "Figur"}


def quarto_compat(nb, title: str) -> dict[str, str]:
    """Make an executed notebook read like its Quarto rendering (for the nbconvert fallback).

    Drops cells marked ``#| include: false``; numbers ``#| label: tbl-…``/``fig-…``
    cells in document order and adds their caption («Tabell 3: …», above a table,
    below a figure); replaces ``@tbl-…``/``@fig-…`` by «tabell 3»/«figur 1»
    (capitalised for ``@Tbl-…``); strips ``{.unnumbered}``-style heading
    attributes; puts the title first. Returns the label -> number text map.
    """
    numbers: dict[str, str] = {}
    counters = {"tbl": 0, "fig": 0}
    kept = []
    for cell in nb.cells:
        if cell.cell_type == "code" and _INCLUDE_FALSE.search(cell.source):
            continue
        if cell.cell_type == "raw":
            continue
        kept.append(cell)
        label = _LABEL.search(cell.source) if cell.cell_type == "code" else None
        cap = _CAP.search(cell.source) if cell.cell_type == "code" else None
        if label and cap and cell.get("outputs"):
            kind = cap["kind"]
            counters[kind] += 1
            numbers[label["v"]] = str(counters[kind])
            text = f"{CAPTION_WORD[kind]} {counters[kind]}: {cap['v'].strip().strip(chr(34))}"
            caption = nbformat.v4.new_output("display_data", data={"text/markdown": f"**{text}**"})
            if kind == "tbl":
                cell.outputs.insert(0, caption)
            else:
                cell.outputs.append(caption)

    def refs(text: str) -> str:
        def one(m):
            kind = m["cap"].lower()
            num = numbers.get(f"{kind}-{m['name']}", "?")
            word = CAPTION_WORD[kind]
            return f"{word if m['cap'][0].isupper() else word.lower()} {num}"

        return _HEADING_ATTR.sub(r"\1", _REF.sub(one, text))

    for cell in kept:
        if cell.cell_type == "markdown":
            cell.source = refs(cell.source)
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if "text/markdown" in data:
                data["text/markdown"] = refs(data["text/markdown"])
    title_cell = nbformat.v4.new_markdown_cell(f"# {html.escape(title)}")  # Markdown passes raw HTML through
    title_cell.id = "opr-title"  # a fixed id: a random one would change the page on every run
    nb.cells = [title_cell, *kept]
    return numbers


def render_nbconvert(executed: Path, target: Path, title: str) -> Path:
    """One self-contained HTML file of the executed notebook: no code, no hidden cells."""
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    nb = nbformat.read(executed, as_version=4)
    # Execution times and kernel details vary between runs; the page must not.
    nb.metadata = {k: v for k, v in nb.metadata.items() if k in ("kernelspec", "language_info")}
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
    quarto_compat(nb, title)
    remover = TagRemovePreprocessor(
        remove_cell_tags=REMOVE_TAGS,
        remove_input_tags={"remove-input"},
        remove_all_outputs_tags={"remove-output"},
        enabled=True,
    )
    nb, resources = remover.preprocess(nb, {})
    nb.metadata["title"] = title
    exporter = HTMLExporter(
        template_name="lab",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    # Self-contained: the report has no widgets or mathematics, so the template's CDN scripts go.
    body = re.sub(r"<html[^>]*>", '<html lang="nb">', _CDN_SCRIPT.sub("", body), count=1)
    target.write_text(body, encoding="utf-8")
    return target


# --- the run ---------------------------------------------------------------------------------


def check_report_parameters(*, min_cell: int, years_shown: int, texts_dir: Path) -> None:
    """Raise :class:`UsageError` for a parameter no report can be made with (before any work)."""
    if min_cell < 1:
        raise UsageError(f"--min-cell må være 1 eller større (fikk {min_cell})")
    if years_shown < 1:
        raise UsageError(f"--years-shown må være 1 eller større (fikk {years_shown})")
    if not Path(texts_dir).is_dir():
        raise UsageError(f"fant ikke tekstmappen «{texts_dir}» (--texts)")


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
    steps = _Steps(log)
    out = Path(out).resolve()
    texts_dir = Path(texts_dir or TEXTS).resolve()
    quarto = find_quarto()
    formats = list(formats) if formats else (list(FORMATS) if quarto else ["html"])
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise UsageError(f"ukjent format {', '.join(unknown)}; velg blant {', '.join(FORMATS)}")
    if not NOTEBOOK.is_file():
        raise OprError(f"fant ikke rapportnotatboken {NOTEBOOK}")
    check_report_parameters(min_cell=min_cell, years_shown=years_shown, texts_dir=texts_dir)
    protect = protected_folders([extract])
    check_dir_target(out, "report", protect)

    with steps.step("validate", "Validerte uttrekket") as info:
        reg = load_extract(extract)
        counts = reg.report.counts()
        rep = reg.report
        read, used, quarantined = (fmt_int(n) for n in (rep.rows_read, rep.rows_used, rep.rows_quarantined))
        info["message"] = f"Validerte uttrekket {extract}: {read} rader lest, {used} brukt, {quarantined} i karantene"
    as_of = as_of or dt.date.today()
    year = int(year) if year is not None else default_report_year(reg, as_of)
    check_report_year(reg, year, as_of)
    parameters = {
        "extract": str(Path(extract).resolve()),
        "report_year": year,
        "as_of": as_of.isoformat(),
        "years_shown": years_shown,
        "min_cell": min_cell,
        "texts_dir": str(texts_dir),
        "include_proms": include_proms,
    }
    title = f"Årsrapport {year} for OUS smerteregister"
    stem = f"arsrapport-{year}"
    # --- units (issue 16) ---
    from ..extract.units import unit_table

    units = unit_table(reg)
    if unit is not None:
        if unit not in set(units["unit_id"]):
            raise UsageError(f"ukjent enhet «{unit}»; enhetene i uttrekket er: {', '.join(units['unit_id'])}")
        parameters["unit"] = unit
        title += " – " + str(units.set_index("unit_id").at[unit, "name"])
        stem += f"-{unit}"
    with_units = unit is not None or len(units) > 1
    # --- end units ---

    # Built in a temporary folder beside ``out``, scanned for identity numbers, then swapped in.
    with owned_dir(out, "report", check=scan_outputs, protect=protect) as work:
        executed = work / "build" / NOTEBOOK.name
        with steps.step("execute", f"Kjørte notatboken {NOTEBOOK.name} med papermill"):
            # Units (issue 16): the indicator chapter's cells (tag UNITS_TAG) are left out for a one-unit
            # extract. Response-rate experiments (issue 18): the chapter is added only when the extract
            # has allocations. Otherwise the template is NOTEBOOK itself and the report is unchanged.
            from ..experiment.chapter import report_template

            with tempfile.TemporaryDirectory(prefix="opr-report-") as scratch:
                base = NOTEBOOK if with_units else without_tagged_cells(NOTEBOOK, Path(scratch) / "units", UNITS_TAG)
                template = report_template(base, reg, Path(scratch) / "experiment")
                execute_notebook(template, executed, parameters, cwd=NOTEBOOK.parent)
        if quarto:
            renderer = {"name": "quarto", "version": quarto_version(quarto), "path": quarto}
            with steps.step("render", f"Laget {', '.join(formats)} med Quarto {renderer['version']}"):
                files = render_quarto(quarto, executed, work, formats, title, stem)
        else:
            import nbconvert

            renderer = {"name": "nbconvert", "version": nbconvert.__version__}
            skipped = [f for f in formats if f != "html"]
            log(
                "Quarto finnes ikke (verken på PATH eller i QUARTO_PATH): lager én selvstendig HTML-fil med "
                "nbconvert" + (f"; {', '.join(skipped)} lages ikke" if skipped else "")
            )
            with steps.step("render", f"Laget HTML med nbconvert {nbconvert.__version__}"):
                files = [render_nbconvert(executed, work / f"{stem}.html", title)]
        if reg.report.rows_quarantined:
            reg.report.write_quarantine(work / "karantene")
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
                for p in [NOTEBOOK, QUARTO_CONFIG, *text_files(texts_dir)]
                if p.is_file()
            },
            "package": {"name": "opr-analysis", "version": __version__, **_git_commit()},
            "python": platform.python_version(),
            "renderer": renderer,
            "outputs_sha256": {p.name: _sha256(p) for p in files},
            "executed_notebook": f"build/{NOTEBOOK.name}",
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
    return ReportRun(out=out, files=final, manifest=manifest, renderer=renderer["name"], timings=timings)
