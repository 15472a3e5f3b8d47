"""Writing an access answer: a readable document (Markdown → HTML, and PDF with Quarto) and a bundle.

The document is one Markdown text (:func:`access_markdown`) in Bokmål, rendered
to a self-contained HTML page with mistune (:func:`access_html`) and, where
Quarto is installed, to PDF by Typst (:func:`access_pdf`), so both show the same
words. Every value from the extract passes through
:func:`opr_analysis.safety.markup.escape`, the one escaping function
(character references mean the same character in HTML and every Markdown
dialect): a value is text, never markup. Labels come
from the codebook (tables, columns, codes) and ``instruments.yaml`` (item
texts and answer categories). The patient's identity number is never in an
extract (the reader refuses one), so it cannot be printed.

The machine-readable bundle (GDPR art. 20) holds the same rows as data:
``innsyn.json`` (every table with its columns' labels and codes, answers,
scores, deliveries) and one CSV per table under ``tabeller/`` (codebook column
names, ISO dates, codes as written).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pandas as pd

from ..extract import codebook
from ..formatting import MISSING, fmt_int, fmt_num
from ..safety.markup import escape
from .access import AccessAnswer

TITLE = "Innsyn i opplysninger i OUS smerteregister"
CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; max-width: 46rem; margin: 2rem auto;
       padding: 0 1rem; line-height: 1.5; color: #222; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-size: 0.92rem; }
th, td { border-bottom: 1px solid #ccc; padding: 0.25rem 0.6rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.3rem; margin-top: 2rem; } h3 { font-size: 1.1rem; }
@media print { body { margin: 0; max-width: none; } h2, h3 { break-after: avoid; } tr { break-inside: avoid; } }
"""


def _date(value, with_time: bool = False) -> str:
    if value is None or pd.isna(value):
        return MISSING
    ts = pd.Timestamp(value)
    return ts.strftime("%d.%m.%Y %H:%M") if with_time else ts.strftime("%d.%m.%Y")


def display_value(col: codebook.Column, value, units: dict[str, str] | None = None) -> str:
    """One cell as the patient reads it (unescaped): code labels, Norwegian dates and numbers, ja/nei."""
    if col.type == "bool":
        return MISSING if pd.isna(value) else ("ja" if bool(value) else "nei")
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return col.blank_label or MISSING
    if col.type == "code":
        return col.codes.get(str(value), str(value))
    if col.type == "date":
        return _date(value)
    if col.type == "datetime":
        return _date(value, with_time=True)
    if col.type == "int":
        return str(int(value)) if col.name.endswith("year") else fmt_int(value)  # a year is not grouped
    if col.type == "float":
        return fmt_num(value, 0 if float(value).is_integer() else 2)
    if col.references == "units.unit_id" and units:
        return f"{units.get(str(value), str(value))} ({value})"
    return str(value)


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    """A Markdown pipe table; cells are escaped here (the one escaping function)."""
    lines = ["| " + " | ".join(escape(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(escape(c) for c in row) + " |" for row in rows]
    return [*lines, ""]


def _units(reg_units: pd.DataFrame | None) -> dict[str, str]:
    if reg_units is None or reg_units.empty:
        return {}
    return dict(zip(reg_units["unit_id"].astype(str), reg_units["name"].astype(str), strict=True))


def access_markdown(answer: AccessAnswer, rights_text: str, units: pd.DataFrame | None = None) -> str:
    """The access document as Markdown (Bokmål; see the module docstring)."""
    cb = codebook.load()
    unit_names = _units(units)
    out = [
        f"# {TITLE}",
        "",
        f"Svar på krav om innsyn for pasient-ID **{escape(answer.patient_id)}** i OUS smerteregister, "
        f"laget {answer.made:%d.%m.%Y}. Dokumentet viser alt registeruttrekket inneholder om deg, med de samme "
        "betegnelsene som registerets kodebok bruker. Fødselsnummeret ditt står ikke i registeruttrekket.",
        "",
    ]
    if answer.erased_from is not None:
        out += [
            "## Sletting",
            "",
            f"Etter krav fra deg er opplysningene om deg slettet fra registerets uttrekk fra {_date(answer.erased_from)}. "
            "De brukes ikke i tabeller, rapporter eller nye utleveringer. Under står det registeret fortsatt har: "
            "selve kravet, som registeret må ta vare på for å kunne vise at det er fulgt opp, og hvilke "
            "forskningsprosjekter som fikk opplysninger om deg før slettingen.",
            "",
        ]
    out += ["## Opplysninger registeret har om deg", ""]
    if not answer.tables:
        out += ["Uttrekket har ingen andre opplysninger om deg.", ""]
    for name, rows in answer.tables.items():
        spec = cb.tables[name]
        # the patient's own id is in the heading; an optional extension column the extract lacks is noise
        cols = [
            c
            for c in spec.columns.values()
            if c.name != "patient_id" and not (c.extension and rows[c.name].isna().all())
        ]
        out += [f"### {escape(spec.label)}", ""]
        body = [[display_value(c, r[c.name], unit_names) for c in cols] for _, r in rows.iterrows()]
        out += _table([c.label for c in cols], body)
    if len(answer.answers):
        out += ["## Svarene dine på spørreskjemaene", ""]
        for (label, qid), group in answer.answers.groupby(["questionnaire", "id"], sort=False):
            when = group["date"].iloc[0]
            out += [
                f"### {escape(label)} {escape(qid)}, besvart {escape(_date(when, True))}",
                "",
            ]
            body = [
                [r.instrument, r.text, fmt_num(r.value, 0 if float(r.value).is_integer() else 2), r.answer or MISSING]
                for r in group.itertuples()
            ]
            out += _table(["Skjema", "Spørsmål", "Svar", "Svaralternativ"], body)
    if len(answer.scores):
        out += [
            "## Skårer regnet ut fra svarene",
            "",
            "Registeret regner ut skårer fra svarene etter reglene for hvert spørreskjema.",
            "",
        ]
        body = [[f"{r.questionnaire} {r.id}", r.label, _score(r.value)] for r in answer.scores.itertuples()]
        out += _table(["Skjema", "Skår", "Verdi"], body)
    out += _deliveries_markdown(answer)
    out += ["## Dine rettigheter", "", rights_text.strip(), ""]
    return "\n".join(out)


def _score(value) -> str:
    if isinstance(value, bool):
        return "ja" if value else "nei"
    if isinstance(value, str):
        return value
    return fmt_num(value, 0 if float(value).is_integer() else 2)


def _deliveries_markdown(answer: AccessAnswer) -> list[str]:
    out = ["## Hvem har fått opplysninger om deg", ""]
    if len(answer.deliveries):
        out += [
            "Registeret har levert opplysninger om deg til disse forskningsprosjektene. Opplysningene ble levert "
            "uten navn og fødselsnummer, med et pseudonym som bare gjelder det enkelte prosjektet.",
            "",
        ]
        body = [
            [
                r.title or r.project,
                r.purpose,
                " – ".join(x for x in (r.recipient, r.institution) if x),
                _date(r.delivered_at),
            ]
            for r in answer.deliveries.itertuples()
        ]
        out += _table(["Prosjekt", "Formål", "Mottaker og institusjon", "Levert"], body)
    else:
        out += ["Leveranseregisteret viser ingen forskningsprosjekter som har fått opplysninger om deg.", ""]
    if len(answer.possible_deliveries):
        out += [
            "Leveranser fra før registeret begynte å føre hvilke pasienter hver leveranse inneholdt, er ikke ført "
            "per pasient. Disse kan ha inneholdt opplysninger om deg; registeret kan be prosjektene undersøke det:",
            "",
        ]
        body = [[r.title or r.project, _date(r.delivered_at)] for r in answer.possible_deliveries.itertuples()]
        out += _table(["Prosjekt", "Levert"], body)
    return out


def access_html(markdown: str) -> str:
    """The document as one self-contained HTML page (mistune; raw HTML in the text is escaped)."""
    import html

    import mistune

    # Raw HTML is allowed as in the report's texts: every value from the extract is escaped already (escape()).
    body = mistune.create_markdown(escape=False, plugins=["table"])(markdown)
    return (
        '<!DOCTYPE html>\n<html lang="nb">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(TITLE)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{body}</body>\n</html>\n"
    )


def access_pdf(markdown: str, target: Path, quarto: str | None) -> Path | None:
    """The document as PDF with Quarto (Typst) into ``target``; None without Quarto."""
    import tempfile

    if not quarto:
        return None
    from ..errors import OprError

    with tempfile.TemporaryDirectory(prefix="opr-innsyn-") as scratch:
        source = Path(scratch) / "innsyn.md"
        header = "---\nlang: nb\nformat:\n  typst:\n    papersize: a4\n---\n\n"
        source.write_text(header + markdown, encoding="utf-8")
        done = subprocess.run(
            [quarto, "render", source.name, "--to", "typst", "--output", "innsyn.pdf"],
            cwd=scratch,
            capture_output=True,
            text=True,
            timeout=300,
        )
        made = Path(scratch) / "innsyn.pdf"
        if done.returncode != 0 or not made.is_file():
            raise OprError(f"Quarto kunne ikke lage PDF av innsynsdokumentet: {done.stderr.strip()[-300:]}")
        shutil.copyfile(made, target)
    return target


def _json_value(value):
    if value is None or (not isinstance(value, (str, bool)) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat() if value != value.normalize() else value.date().isoformat()
    if hasattr(value, "item"):
        return value.item()
    return value


def _records(frame: pd.DataFrame) -> list[dict]:
    return [{k: _json_value(v) for k, v in row.items()} for row in frame.to_dict("records")]


def access_bundle(answer: AccessAnswer) -> dict:
    """The machine-readable answer (GDPR art. 20): every row with the codebook's labels and codes."""
    cb = codebook.load()
    tables = {}
    for name, rows in answer.tables.items():
        spec = cb.tables[name]
        tables[name] = {
            "etikett": spec.label,
            "kolonner": {
                c.name: {"etikett": c.label, "type": c.type, **({"koder": c.codes} if c.codes else {})}
                for c in spec.columns.values()
            },
            "rader": _records(rows[list(spec.columns)]),
        }
    deliveries = ["project", "title", "purpose", "recipient", "institution", "delivered_at"]
    return {
        "dokument": TITLE,
        "laget": answer.made.isoformat(),
        "pasient_id": answer.patient_id,
        "slettet_fra": _json_value(answer.erased_from),
        "tabeller": tables,
        "skjemasvar": _records(answer.answers),
        "skårer": _records(answer.scores),
        "leveranser": _records(answer.deliveries[deliveries]),
        "mulige_leveranser_fra_før_registeret": _records(answer.possible_deliveries[deliveries]),
        "uttrekk_sha256": answer.sources,
    }


def write_access(
    answer: AccessAnswer, folder: Path, rights_text: str, units=None, quarto: str | None = None
) -> list[Path]:
    """Write the document (HTML, and PDF with Quarto) and the bundle into ``folder``; returns the files."""
    markdown = access_markdown(answer, rights_text, units)
    files = [folder / "innsyn.html"]
    files[0].write_text(access_html(markdown), encoding="utf-8")
    pdf = access_pdf(markdown, folder / "innsyn.pdf", quarto)
    if pdf is not None:
        files.append(pdf)
    bundle = folder / "innsyn.json"
    bundle.write_text(json.dumps(access_bundle(answer), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    files.append(bundle)
    tables = folder / "tabeller"
    tables.mkdir()
    cb = codebook.load()
    parts = {**answer.tables}
    if len(answer.answers):
        parts["skjemasvar"] = answer.answers
    if len(answer.scores):
        parts["skarer"] = answer.scores
    for name, rows in parts.items():
        spec = cb.tables.get(name)
        cols = list(spec.columns) if spec is not None else list(rows.columns)
        rows = rows[cols].copy()
        for col in cols:  # ISO dates for date columns, ISO date-times for the rest
            if spec is not None and spec.columns[col].type == "date" or col == "date":
                rows[col] = pd.to_datetime(rows[col]).dt.strftime("%Y-%m-%d")
        path = tables / f"{name}.csv"
        rows.to_csv(path, index=False, encoding="utf-8", lineterminator="\n", date_format="%Y-%m-%dT%H:%M:%S")
        files.append(path)
    return files
