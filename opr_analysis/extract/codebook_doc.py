"""The codebook as a Markdown page (``docs/codebook.md``), generated, never hand-written.

Examples
--------
>>> text = codebook_markdown()
>>> text.splitlines()[0]
'# Kodebok for OPR-uttrekket (codebook)'
"""

from __future__ import annotations

from . import codebook

TYPE_NAMES = {
    "id": "id (tekst)",
    "string": "tekst",
    "text": "fritekst",
    "int": "heltall",
    "float": "tall",
    "bool": "ja/nei",
    "date": "dato",
    "datetime": "tidspunkt",
    "code": "kode",
    "item": "spørsmålskode",
    "orgnr": "organisasjonsnummer (9 sifre)",
}


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _codes(col: codebook.Column) -> str:
    parts = [f"`{k}` {v}" for k, v in col.codes.items()]
    if col.blank_label:
        parts.append(f"blank: {col.blank_label}")
    return "; ".join(parts)


def _rules(col: codebook.Column) -> str:
    rules = ["valgfri (blank tillatt)" if col.optional else "påkrevd"]
    if col.unique:
        rules.append("unik")
    if col.min is not None:
        rules.append(f"≥ {col.min:g}")
    if col.max is not None:
        rules.append(f"≤ {col.max:g}")
    if col.references:
        rules.append(f"finnes i `{col.references}`")
    if col.extension:
        rules.append("tillegg til kontrakten; kolonnen kan mangle")
    if col.disclosure == "direct_identifier":
        rules.append("direkte identifikator: utleveres aldri og vises aldri i rapporter")
    return ", ".join(rules)


def codebook_markdown(cb: codebook.Codebook | None = None) -> str:
    """Render the whole codebook (tables, then questionnaire instruments) as Markdown."""
    cb = cb or codebook.load()
    out = [
        "# Kodebok for OPR-uttrekket (codebook)",
        "",
        f"Generated from `opr_analysis/codebook.yaml` and `opr_analysis/instruments.yaml` "
        f"(codebook version {cb.version}, {cb.contract}) by `make docs`; do not edit by hand.",
        "",
        "Each table is one file `<table>.csv`, `.parquet` or `.xlsx` in the extract folder.",
        "",
    ]
    for t in cb.tables.values():
        out += [
            f"## `{t.name}` — {t.label}",
            "",
            f"{'Påkrevd tabell' if t.required else 'Valgfri tabell'}. {t.description}",
            "",
            "| kolonne | type | regler | etikett | koder | description |",
            "|---|---|---|---|---|---|",
        ]
        for c in t.columns.values():
            out.append(
                f"| `{c.name}` | {TYPE_NAMES[c.type]} | {_cell(_rules(c))} | {_cell(c.label)} "
                f"| {_cell(_codes(c))} | {_cell(c.description)} |"
            )
        out.append("")
    if cb.instruments:
        out += ["# Spørreskjema (instruments)", ""]
        for ins in cb.instruments.values():
            out += [
                f"## `{ins.name}` — {ins.label}",
                "",
                f"{ins.description} Skjema: {', '.join(ins.questionnaires)}. Kilde: {ins.source}",
                "",
                "| item | etikett | skala | koder |",
                "|---|---|---|---|",
            ]
            for it in ins.items.values():
                codes = "; ".join(f"{k} = {v}" for k, v in it.codes.items())
                out.append(f"| `{it.code}` | {_cell(it.label)} | {it.min:g}–{it.max:g} | {_cell(codes)} |")
            out.append("")
    return "\n".join(out).rstrip() + "\n"
