"""The delivery's documentation: codebook (CSV + HTML), README, rendered notebook.

:func:`variable_summary` is the one function behind the codebook's
distributions (the notebook shows the CSV it writes). Counts obey the small-
cell rule (:func:`~opr_analysis.extracts.disclosure.hidden_counts`); numeric
variables show quartiles only (never min/max, which point at single patients).

Every number a reader sees is Norwegian (``1 915 890``, ``2,9 %``, decimal
comma); the codebook CSV keeps plain numbers (``missing_share`` 0–1) for
software. Each code is listed with the number it has in the .sav/.dta files
(``K (1) = Kvinne``), since SPSS and Stata show those numbers.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from ..formatting import fmt_int, fmt_num, fmt_pct
from ..report.suppression import SUPPRESSED
from ..safety.markup import escape
from .disclosure import hidden_counts
from .writers import ColumnMeta, numeric_codes

KIND_TEXT = {
    "code": "kode",
    "bool": "ja/nei (1/0)",
    "int": "heltall",
    "float": "tall",
    "date": "dato",
    "string": "tekst",
}


def _num(x: float) -> str:
    """A quartile in Norwegian form: whole numbers with thousands, else up to 2 decimals.

    >>> _num(1915890.0), _num(0.0287), _num(12.5)
    ('1\xa0915\xa0890', '0,03', '12,5')
    """
    if float(x).is_integer():
        return fmt_int(int(x))
    return fmt_num(x, 2 if abs(x) < 10 else 1)


def codes_text(m: ColumnMeta) -> str:
    """The codes with their numbers in .sav/.dta and their labels.

    >>> codes_text(ColumnMeta("sex", "Kjønn", "code", {"K": "Kvinne", "M": "Mann"}))
    'K (1) = Kvinne; M (2) = Mann'
    """
    if m.kind == "bool":
        return "1 = Ja; 0 = Nei"
    if m.kind != "code":
        return ""
    num = numeric_codes(m)
    return "; ".join(f"{c} ({num[c]}) = {lab}" for c, lab in m.codes.items())


def distribution(s: pd.Series, m: ColumnMeta, min_cell: int) -> str:
    """One variable's distribution as text, small counts shown as ``<min_cell``.

    >>> m = ColumnMeta("sex", "Kjønn", "code", {"K": "Kvinne", "M": "Mann"})
    >>> distribution(pd.Series(["K"] * 9 + ["M"] * 2), m, 5)
    'K: ×; M: ×'
    >>> distribution(pd.Series(["K"] * 9 + ["M"] * 6), m, 5)
    'K: 9; M: 6'
    """
    values = s.dropna()
    if m.kind in ("code", "bool"):
        codes = list(m.codes) if m.kind == "code" else ["1", "0"]
        as_text = values.astype("boolean").astype(int).astype(str) if m.kind == "bool" else values.astype(str)
        counts = as_text.value_counts().reindex(codes, fill_value=0)
        hidden = hidden_counts(counts, min_cell)
        if hidden is None:  # too few values for any hidden count to stay hidden
            return f"skjult (for få verdier til at små antall kan skjules; minst {min_cell} per skjult antall)"

        def show(n: int, h: bool) -> str:
            return SUPPRESSED if h else fmt_int(int(n))  # one symbol for every hidden count, small or not

        return "; ".join(f"{c}: {show(n, h)}" for (c, n), h in zip(counts.items(), hidden, strict=True))
    if len(values) < min_cell:
        return f"færre enn {min_cell} verdier"
    if m.kind in ("int", "float"):
        q = np.quantile(values.astype(float).to_numpy(), [0.25, 0.5, 0.75])
        return f"median {_num(q[1])}; kvartiler {_num(q[0])}–{_num(q[2])}"
    if m.kind == "date":
        q = values.quantile([0.25, 0.5, 0.75])
        return f"median {q.iloc[1]:%Y-%m-%d}; kvartiler {q.iloc[0]:%Y-%m-%d}–{q.iloc[2]:%Y-%m-%d}"
    return f"{values.nunique()} ulike verdier"


def variable_summary(files: dict[str, tuple[pd.DataFrame, list[ColumnMeta]]], min_cell: int) -> pd.DataFrame:
    """The codebook: one row per delivered variable of every file."""
    rows = []
    for file, (frame, meta) in files.items():
        for m in meta:
            s = frame[m.name]
            rows.append(
                {
                    "file": file,
                    "variable": m.name,
                    "label": m.label,
                    "type": KIND_TEXT[m.kind],
                    "codes": codes_text(m),
                    "n": int(s.notna().sum()),
                    "missing_share": round(float(s.isna().mean()), 4) if len(s) else np.nan,
                    "distribution": distribution(s, m, min_cell),
                    "disclosure_class": m.disclosure or "other",
                    "not_identifying_because": m.why,
                }
            )
    return pd.DataFrame(rows)


CODEBOOK_LABELS = {
    "file": "Fil",
    "variable": "Variabel",
    "label": "Etikett",
    "type": "Type",
    "codes": "Koder (tall i SPSS/Stata)",
    "n": "N",
    "missing_share": "Mangler",
    "distribution": "Fordeling",
    "disclosure_class": "Personvernklasse",
    "not_identifying_because": "Hvorfor ikke identifiserende",
}


def codebook_table(summary: pd.DataFrame, subtitle: str = "", columns: list[str] | None = None):
    """The codebook (CSV frame, all text) as a great-tables table with Norwegian numbers."""
    from great_tables import GT

    columns = columns or list(CODEBOOK_LABELS)
    shown = summary.assign(
        n=[fmt_int(int(v)) if str(v).strip() not in ("", "nan") else "" for v in summary["n"]],
        missing_share=[
            fmt_pct(float(v)) if str(v).strip() not in ("", "nan") else "" for v in summary["missing_share"]
        ],
    )[columns]
    gt = GT(shown, id="kodebok").cols_label(cases={c: CODEBOOK_LABELS[c] for c in columns})
    gt = gt.cols_align("right", columns=[c for c in ("n", "missing_share") if c in columns])
    return gt.tab_header(title="Kodebok", subtitle=subtitle) if subtitle else gt


def codebook_html(summary: pd.DataFrame, title: str) -> str:
    """The codebook as a standalone HTML page (great-tables escapes cells and headers; the title is escaped here)."""
    body = codebook_table(summary, title).as_raw_html()
    return (
        '<!DOCTYPE html>\n<html lang="nb"><head><meta charset="utf-8"><title>Kodebok – '
        f"{escape(title)}</title></head><body>\n{body}\n</body></html>\n"
    )


def readme(spec, files: list[str], counts: dict, flow: list, disclosure: dict, version: str) -> str:
    """The recipient's README (Norwegian, Markdown); the spec's texts are quoted through the one escaping function."""
    approvals = (
        "\n".join(f"- {escape(a.get('kind', 'Godkjenning'))}: {escape(a['reference'])}" for a in spec.approvals)
        or "- (ingen oppgitt)"
    )
    rec = spec.recipient
    recipient = ", ".join(escape(rec[k]) for k in ("name", "institution", "email") if rec.get(k))
    period = " – ".join(str(d) if d else "…" for d in spec.period) if any(spec.period) else "hele uttrekket"
    flow_lines = "\n".join(f"| {label} | {n} |" for label, n in flow)
    steps = disclosure.get("generalised_text") or ["ingen"]
    date_text = {
        "full": "fulle datoer (ÅÅÅÅ-MM-DD)",
        "month": "måned (ÅÅÅÅ-MM)",
        "year": "år",
        "relative": "dager etter rett til helsehjelp for innskrivingen raden hører til",
    }[disclosure["dates"]]
    file_lines = "\n".join(f"- `{f}`" for f in files)
    return f"""# Datautlevering fra OUS smerteregister (OPR)

**Prosjekt:** {escape(spec.title)} (`{spec.project}`)
**Mottaker:** {recipient}
**Periode (dato for rett til helsehjelp):** {period}
**Forskningsspørsmål:** {escape(spec.research_question)}

Godkjenninger:
{approvals}

## Hva filene er

Én datafil per nivå, i formatene {", ".join(spec.formats)}:

- `enrolments`: én rad per innskriving ({counts["enrolments"]} innskrivinger, {counts["patients"]} pasienter).
- Eventuelle andre filer (`treatments`, `followups`, `baseline_responses`, `implants`) har én rad per hendelse og
  kobles til innskrivingen med `pid` og `enrolment_seq`.

`pid` er et pseudonym: en nøkkelbasert kode (HMAC-SHA256) som er fast for dette prosjektet og ikke kan
kobles til andre prosjekters utleveringer eller tilbake til pasienten uten registerets nøkkel.
`enrolment_seq` er innskrivingens nummer for pasienten i registeret (1 = første). Andre id-er er
erstattet av løpenummer per pasient (`treatment_no`, `followup_no`, `response_no`, `implant_no`), sortert
etter dato.
Alder er beregnet som innskrivingsår minus fødselsår. Datoer er gitt som {date_text}.

Variabler, etiketter, koder, andel manglende og fordeling står i `codebook.csv` og `codebook.html`.
SPSS- og Stata-filene har variabel- og verdietiketter; koder er der nummerert 1, 2, … i
kodebokens rekkefølge, ja/nei er 1/0.

Filer i utleveringen:
{file_lines}

## Utvalg

| kriterium | innskrivinger igjen |
|---|---|
{flow_lines}

## Personvern

Hver variabel er klassifisert i kodeboken (`disclosure_class`): direkte identifikator (utleveres
aldri), kvasi-identifikator, sensitiv eller annet. Kvasi-identifikatorer er alle datoer, alder, kjønn,
region, kommune, innskrivingsår og alle avledede grupper; spesifikasjonen kan legge til, aldri fjerne.
Kvasi-identifikatorene i denne utleveringen: {", ".join(disclosure["quasi_identifiers"]) or "(ingen)"}.
Når alle filene kobles på `pid`, har hver pasients samlede opplysninger om disse (med den presisjonen
de er utlevert med) minst k = {disclosure["k"]} pasienter felles. Generalisering som ble brukt:
{", ".join(steps)}.
{_judgements(disclosure)}
Skjulte antall i kodeboken vises som «×» (under {disclosure["min_cell"]}, eller skjult for at et lite
antall ikke skal kunne regnes ut av summen).
Dataene er pseudonyme personopplysninger og skal behandles etter utleveringsavtalen.

## Vilkår

{escape(spec.agreement) or "Utleveringsavtalen for OUS smerteregister gjelder."} Dataene skal bare brukes til
prosjektet og forskningsspørsmålet over, ikke deles videre, ikke kobles med andre data uten godkjenning,
og slettes når prosjektet er avsluttet. Forsøk på å identifisere personer er ikke tillatt.
Resultater fra grupper med færre enn {disclosure["min_cell"]} pasienter skal ikke publiseres.

## Sitering

Oppgi kilden slik: «Data fra OUS smerteregister (OPR), Regional kompetansetjeneste for smerte,
Oslo universitetssykehus, utlevering `{spec.project}`.» Send publikasjoner og studentoppgaver til
registeret.

Laget med opr-analysis {version}. `manifest.json` har SHA-256 for hver fil; `spec.yaml` er
spesifikasjonen utleveringen ble laget fra.
"""


def render_notebook(notebook: Path, params: dict, out_html: Path, title: str) -> Path:
    """Execute ``notebook`` with papermill and render it to ``out_html``.

    The same renderer as the annual report (:mod:`opr_analysis.report.pipeline`):
    Quarto when it is found (``quarto`` on PATH or ``$QUARTO_PATH``), otherwise
    one self-contained HTML page from nbconvert, without code or the injected
    parameters.
    """
    from ..report.pipeline import execute_notebook, find_quarto, render_nbconvert, render_quarto

    with tempfile.TemporaryDirectory(prefix="opr-extract-nb-") as tmp:
        executed = Path(tmp) / notebook.name
        execute_notebook(notebook, executed, params)
        quarto = find_quarto()
        if quarto:
            (produced,) = render_quarto(quarto, executed, Path(tmp), ["html"], title, out_html.stem)
            shutil.move(produced, out_html)
        else:
            render_nbconvert(executed, out_html, title)
    return out_html


def _judgements(disclosure: dict) -> str:
    """The README's list of variable types judged not identifying, with the reasons."""
    why = disclosure.get("not_identifying") or {}
    if not why:
        return ""
    lines = "\n".join(f"- `{name}`: {reason}" for name, reason in why.items())
    return f"\nVariabler som er vurdert som ikke identifiserende, og hvorfor:\n\n{lines}\n"


def docs_context(counts: dict, flow: list, disclosure: dict) -> str:
    """The notebook's parameter with what it shows besides the codebook (JSON text)."""
    return json.dumps({"counts": counts, "flow": flow, "disclosure": disclosure}, ensure_ascii=False, sort_keys=True)
