"""Writing profiles: into one folder opr owns, checked before anything is moved into place.

Rules
-----
- **Where.** The output folder is replaced as a whole, and only if it is new, empty or was
  written by ``opr pasient`` (:func:`~opr_analysis.safety.owned.owned_dir`, command
  ``pasient``). Never the extract, the key store, the working folder, the home folder or the
  repository root, never another command's folder, and never a folder *inside* one
  (:func:`~opr_analysis.safety.owned.check_not_inside_outputs`): a profile must not land in a report or a research
  delivery, whose owners would then find a stranger's file there.
- **Files.** One patient: ``pasientprofil-<patient>.html`` (and ``.pdf``). A clinic day:
  ``klinikkdag-<date>.html`` (the index) and ``pasientprofil-<patient>-<enrolment>.html``
  (and ``.pdf``) per enrolment. Ids are made safe for file names (:func:`file_stem`).
- **PDF** only with Quarto (``$QUARTO_PATH`` or ``quarto`` on PATH); without it, HTML only,
  and the run says so.
- **Checks before the move** (a hit stops the run; nothing is written):
  every file through :func:`~opr_analysis.safety.privacy.scan_outputs` (identity numbers);
  every profile's HTML and Typst source (the PDF's text) must hold **no other patient's id**,
  and the index no id of a patient not on the list (:func:`check_only_own`). Ids are matched
  as whole tokens in the text without embedded images. Ids made only of digits and shorter
  than six characters are not checked: they cannot be told from the numbers on the page (the
  tests check the assembly for them).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import IdentifiableDataError
from ..safety.nin import has_nin, may_hold_nin
from ..safety.owned import owned_dir
from ..safety.privacy import IdMatcher, scan_outputs
from .assemble import ProfileContext, clinic_enrolments, patient_enrolment, patient_profile
from .cells import fmt_date, sex_age
from .figure import figure_alt, figure_png, profile_figure
from .page import index_html, profile_html
from .typst import profile_typst, render_pdf

__all__ = [
    "COMMAND",
    "Written",
    "check_only_own",
    "file_stem",
    "write_clinic_day",
    "write_patient",
]

COMMAND = "pasient"
ERASED_NOTE = "Pasienter som har krevd sletting fra registeret, får ingen profil og står ikke på listen."
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_DATA_URI = re.compile(r"data:[a-z/+.-]+;base64,[A-Za-z0-9+/=]+")
_CHECKED_ID = re.compile(r"[^\W\d_]|.{6,}")  # a letter, or at least six characters


def file_stem(*ids) -> str:
    """``pasientprofil-<ids>`` with every character outside ``A-Za-z0-9._-`` replaced by ``_``.

    >>> file_stem("P 1/2", "E7")
    'pasientprofil-P_1_2-E7'
    """
    return "-".join(["pasientprofil", *(_UNSAFE.sub("_", str(i)).strip(".") or "_" for i in ids)])


def _visible(text: str) -> str:
    return _DATA_URI.sub(" ", text)


def check_only_own(files: dict[str, str], all_ids: Iterable[str], own: dict[str, set[str]]) -> None:
    """Raise :class:`IdentifiableDataError` when a file's text (``files``: name -> text) holds a
    patient id of ``all_ids`` other than its own (``own[name]``), as a whole token."""
    checked = {str(i) for i in all_ids if _CHECKED_ID.search(str(i))}
    for name, text in files.items():
        others = IdMatcher(checked - own[name])
        if others(_visible(text)):
            raise IdentifiableDataError(
                f"{name} inneholder en annen pasients ID; ingenting er skrevet (meld fra til utviklerne)"
            )


@dataclass
class _Profile:
    stem: str
    patient_id: str
    html: str
    typst: str | None = None
    png: bytes | None = None


@dataclass
class Written:
    """What a run wrote: the folder, its files, the number of profiles and whether PDFs were made."""

    folder: Path
    files: list[str]
    profiles: int
    pdf: bool
    erased: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


def _build(ctx: ProfileContext, enrolment_id: str, stem: str, with_pdf: bool) -> tuple[_Profile, object]:
    p = patient_profile(ctx, enrolment_id)
    plot = profile_figure(p)
    png = figure_png(plot) if plot is not None else None
    html = profile_html(p, png, figure_alt(p) if png is not None else "")
    return _Profile(stem, p.patient_id, html, profile_typst(p, png is not None) if with_pdf else None, png), p


def _write(
    ctx: ProfileContext,
    out: Path,
    built: list[_Profile],
    index: tuple[str, str] | None,
    quarto: str | None,
    protect,
) -> list[str]:
    all_ids = ctx.reg.patients["patient_id"].astype(str).tolist()
    texts = {f"{b.stem}.html": b.html for b in built}
    own = {f"{b.stem}.html": {b.patient_id} for b in built}
    for b in built:
        if b.typst is not None:
            texts[f"{b.stem}.typ"] = b.typst
            own[f"{b.stem}.typ"] = {b.patient_id}
    if index is not None:
        texts[index[0]] = index[1]
        own[index[0]] = {b.patient_id for b in built}
    check_only_own(texts, all_ids, own)  # before anything is written or compiled
    for name, text in texts.items():
        if name.endswith(".typ") and may_hold_nin(text) and has_nin(text):  # the PDF's text, scanned as its source
            raise IdentifiableDataError(f"{name} inneholder et fødselsnummer; ingenting er skrevet")

    with owned_dir(out, COMMAND, check=scan_outputs, protect=protect) as tmp:
        for b in built:
            (tmp / f"{b.stem}.html").write_text(b.html, encoding="utf-8")
        if index is not None:
            (tmp / index[0]).write_text(index[1], encoding="utf-8")
        if quarto is not None:
            for b in built:
                render_pdf(quarto, b.typst, b.png, tmp / f"{b.stem}.pdf")
        names = sorted(p.name for p in tmp.iterdir())
    return names


def _quarto_line(quarto: str | None) -> str | None:
    if quarto is None:
        return "Quarto finnes ikke (verken på PATH eller i QUARTO_PATH): lager bare HTML (PDF krever Quarto)"
    return None


def write_patient(ctx: ProfileContext, patient_id: str, out: Path, quarto: str | None, protect, log) -> Written:
    """The profile of one patient (their latest enrolment as of ``ctx.as_of``) into ``out``."""
    started = time.perf_counter()
    enrolment_id = patient_enrolment(ctx, patient_id)
    note = _quarto_line(quarto)
    if note:
        log(note)
    built, _ = _build(ctx, enrolment_id, file_stem(patient_id), quarto is not None)
    files = _write(ctx, out, [built], None, quarto, protect)
    return Written(out, files, 1, quarto is not None, seconds=time.perf_counter() - started)


def write_clinic_day(
    ctx: ProfileContext, date, out: Path, quarto: str | None, protect, log, unit_id: str | None = None
) -> Written:
    """One profile per enrolment whose first consultation is on ``date`` (in ``unit_id``), and the index."""
    started = time.perf_counter()
    date = pd.Timestamp(date).normalize()
    enrolments, erased = clinic_enrolments(ctx, date, unit_id)
    note = _quarto_line(quarto)
    if note:
        log(note)
    built, rows, links = [], [], []
    for eid in enrolments:
        pid = str(ctx.reg.enrolments.loc[ctx.reg.enrolments["enrolment_id"].astype(str) == eid, "patient_id"].iloc[0])
        b, p = _build(ctx, eid, file_stem(pid, eid), quarto is not None)
        built.append(b)
        rows.append(_index_row(p))
        links.append({"html": f"{b.stem}.html", "pdf": f"{b.stem}.pdf" if quarto is not None else None})
    name = f"klinikkdag-{date:%Y-%m-%d}.html"
    title = f"Førstekonsultasjoner {fmt_date(date)}"
    # The same sentence every day: a count of erased patients on a day's list would point at them.
    lines = [_index_line(len(built), date, ctx.as_of, unit_id), ERASED_NOTE]
    header = ["Pasient", "Innskriving", "Kjønn og alder", "Baseline", "Datamerknader"]
    index = (name, index_html(title, lines, header, rows, links))
    files = _write(ctx, out, built, index, quarto, protect)
    return Written(out, files, len(built), quarto is not None, erased, time.perf_counter() - started)


def _index_line(n: int, date, as_of, unit_id) -> str:
    where = f" ved enhet {unit_id}" if unit_id else ""
    what = "Ingen innskrivinger" if n == 0 else f"{n} {'innskriving' if n == 1 else 'innskrivinger'}"
    return f"{what} med førstekonsultasjon {fmt_date(date)}{where} i uttrekket (data per {fmt_date(as_of)})."


def _index_row(p) -> list[str]:
    base = "besvart " + fmt_date(p.baseline["submitted_at"]) if p.baseline is not None else "ikke besvart"
    return [p.patient_id, p.enrolment_id, sex_age(p), base, str(len(p.caveats))]
