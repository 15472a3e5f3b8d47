"""Reading and validating a registry extract: :func:`load_extract`.

The run is the contract's: table-level problems (a missing table or column,
an unreadable file, a national identity number anywhere) stop it with
:class:`~opr_analysis.errors.ExtractError`; row-level problems (wrong type,
unknown code, impossible date, negative duration, duplicate id, broken
reference) send the row to quarantine with a reason, and the counts reconcile:
rows read = rows used + rows quarantined, per table.

Examples
--------
>>> from opr_analysis import load_extract                      # doctest: +SKIP
>>> reg = load_extract("data/synthetic")                        # doctest: +SKIP
>>> reg.referrals.dtypes["assessed_date"]                       # doctest: +SKIP
dtype('<M8[ns]')
>>> print(reg.report.summary_text())                            # doctest: +SKIP
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import codebook, schemas
from .errors import ExtractError, IdentifiableDataError
from .nin import mask_nin, nin_cells
from .parsing import EXPECTED, PARSERS
from .sources import RawTable, SourceFile, find_table_file, read_table
from .validation import Problem, TableSummary, ValidationReport

# Which table each follow-up kind's anchor_id points into.
ANCHOR_TABLE = {
    "rf_3m": ("treatments", "rf"),
    "rf_6m": ("treatments", "rf"),
    "rf_12m": ("treatments", "rf"),
    "scs_3m": ("treatments", "scs"),
    "scs_6m": ("treatments", "scs"),
    "scs_12m": ("treatments", "scs"),
    "avsluttet_12m": ("enrolments", None),
}


@dataclass
class Registry:
    """A validated extract: one typed DataFrame per table plus the validation report.

    Tables are attributes too (``reg.referrals``). Each frame is indexed by
    ``row``, the row's 1-based data row in its source file. An optional table
    that was absent is an empty frame with the codebook's columns.
    """

    path: Path
    tables: dict[str, pd.DataFrame]
    report: ValidationReport
    sources: dict[str, SourceFile] = field(default_factory=dict)

    def __getattr__(self, name: str) -> pd.DataFrame:
        tables = self.__dict__.get("tables", {})
        if name in tables:
            return tables[name]
        raise AttributeError(name)

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name]

    def input_hashes(self) -> dict[str, str]:
        """SHA-256 of every input file, by file name (for manifests)."""
        return {s.path.name: s.sha256 for s in self.sources.values()}


def load_extract(path: str | os.PathLike) -> Registry:
    """Read, type and validate the extract in folder ``path``.

    Raises :class:`ExtractError` when the extract cannot be used and
    :class:`IdentifiableDataError` when it holds a national identity number.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise ExtractError(f"fant ikke uttrekksmappen «{folder}»")
    cb = codebook.load()
    raws, fatal = _read_all(folder, cb)
    _stop_on_identity_numbers(raws)
    if fatal:
        raise ExtractError("uttrekket kan ikke brukes:\n  " + "\n  ".join(fatal))

    report = ValidationReport()
    parsed: dict[str, pd.DataFrame] = {}
    bad: dict[str, pd.DataFrame] = {}
    for name, spec in cb.tables.items():
        raw = raws.get(name)
        if raw is None:
            parsed[name] = _empty_frame(spec)
            bad[name] = _no_problems()
            continue
        frame, problems = _parse_and_check(raw, spec)
        problems = pd.concat([problems, _reference_problems(frame, raw, spec, parsed, bad, raws)])
        if name == "followups":
            problems = pd.concat([problems, _anchor_problems(frame, raw, parsed, bad)])
        parsed[name], bad[name] = frame, problems
    return _assemble(folder, cb, raws, parsed, bad, report)


def _read_all(folder: Path, cb: codebook.Codebook) -> tuple[dict[str, RawTable], list[str]]:
    raws, fatal = {}, []
    for name, spec in cb.tables.items():
        try:
            file = find_table_file(folder, name)
            if file is None:
                if spec.required:
                    fatal.append(f"tabellen «{name}» mangler (ventet {name}.csv, .parquet eller .xlsx)")
                continue
            raw = read_table(file, name)
        except ExtractError as exc:
            fatal.append(str(exc))
            continue
        missing = [c for c in spec.required_columns if c not in raw.cells.columns]
        if missing:
            cols = ", ".join(f"«{c}»" for c in missing)
            fatal.append(f"{file.name}: mangler kolonne {cols}")
        unknown = [c for c in raw.cells.columns if c not in spec.columns]
        if unknown:
            raw.source.notes.append("ukjente kolonner ble ikke brukt: " + ", ".join(unknown))
        raws[name] = raw
    return raws, fatal


def _stop_on_identity_numbers(raws: dict[str, RawTable]) -> None:
    hits = []
    for raw in raws.values():
        for col in raw.cells.columns:
            mask = nin_cells(raw.cells[col])
            for row in raw.cells.index[mask][:5]:
                value = mask_nin(raw.cells.at[row, col])
                hits.append(f"{raw.source.path.name}, rad {row}, kolonne «{col}» («{value}»)")
        for row, cells in raw.ragged.items():
            if nin_cells(pd.Series(cells, dtype="string")).any():
                hits.append(f"{raw.source.path.name}, rad {row}")
    if hits:
        shown = "\n  ".join(hits[:20])
        raise IdentifiableDataError(
            "uttrekket inneholder fødselsnummer (11 sifre med gyldige kontrollsifre) og kan ikke brukes; "
            "ingenting er skrevet. Fjern dem i kildesystemet og lag uttrekket på nytt:\n  " + shown
        )


def _no_problems() -> pd.DataFrame:
    return pd.DataFrame({"row": pd.Series(dtype="int64"), "column": "", "value": "", "reason": ""}).iloc[:0]


def _problems(rows, column: str, values, reason) -> pd.DataFrame:
    rows = np.asarray(rows, dtype="int64")
    return pd.DataFrame(
        {
            "row": rows,
            "column": column,
            "value": np.asarray(values, dtype=object) if len(rows) else [],
            "reason": reason if isinstance(reason, str) else np.asarray(reason, dtype=object),
        }
    )


def _parse_and_check(raw: RawTable, spec: codebook.Table) -> tuple[pd.DataFrame, pd.DataFrame]:
    cells = raw.cells
    frame = {}
    found = [_ragged_problems(raw)]
    unparsed = {}
    for name, col in spec.columns.items():
        if name not in cells.columns:  # an optional extension column
            frame[name] = pd.Series(pd.NA, index=cells.index, dtype=schemas.DTYPES[col.type])
            continue
        values, bad = PARSERS[col.type](cells[name])
        frame[name] = values
        unparsed[name] = bad
        if bad.any():
            found.append(_problems(cells.index[bad], name, cells[name][bad], _type_reason(col, cells[name][bad])))
    frame = pd.DataFrame(frame, index=cells.index)
    for case in schemas.failures(spec.name, frame).itertuples():
        if case.column in unparsed and unparsed[case.column].get(case.row, False):
            continue  # already reported as unparseable; its blank is not a second problem
        found.append(_schema_problem(case, cells, spec, frame))
    return frame, pd.concat(found, ignore_index=True)


def _ragged_problems(raw: RawTable) -> pd.DataFrame:
    rows, reasons = [], []
    for row, cells in raw.ragged.items():
        rows.append(row)
        reasons.append(
            f"raden har {len(cells)} felt, men overskriften har {raw.header_width} "
            "(avkortet rad, eller skilletegn inne i en verdi uten anførselstegn)"
        )
    return _problems(rows, "", [""] * len(rows), reasons)


def _type_reason(col: codebook.Column, values: pd.Series) -> list[str]:
    if col.type == "date":
        shaped = values.str.fullmatch(r"\d{4}-\d{2}-\d{2}|\d{1,2}\.\d{1,2}\.\d{4}")
        serial = values.str.fullmatch(r"\d{5}")
        return np.select(
            [shaped, serial],
            ["datoen finnes ikke", f"ser ut som et Excel-datotall, ikke {EXPECTED['date']}"],
            f"er ikke {EXPECTED['date']}",
        ).tolist()
    return [f"er ikke {EXPECTED[col.type]}"] * len(values)


def _schema_problem(case, cells: pd.DataFrame, spec: codebook.Table, frame: pd.DataFrame) -> pd.DataFrame:
    col = spec.columns[case.column]
    value = cells.at[case.row, case.column] if case.column in cells.columns else ""
    check = case.check
    if check == "not_nullable":
        reason = "mangler verdi (feltet kan ikke være blankt)"
    elif check == "unique":
        rows = cells.index[cells[case.column] == value].tolist()
        reason = f"samme ID står på flere rader ({', '.join(map(str, rows))}); ingen av dem kan brukes"
    elif check == "isin" and col.type == "code":
        reason = "ukjent kode (gyldige koder: " + ", ".join(col.codes) + ")"
    elif check == "isin":
        reason = "ukjent spørsmålskode (se codebook/instruments)"
    elif check == "greater_than_or_equal_to":
        reason = f"er mindre enn laveste tillatte verdi ({col.min:g})"
    elif check == "less_than_or_equal_to":
        reason = f"er større enn høyeste tillatte verdi ({col.max:g})"
    elif check == "item_range":
        item = codebook.load().items[str(frame.at[case.row, "item"])]
        reason = f"ligger utenfor svarskalaen til «{item.code}» (hele tall {item.min:g}–{item.max:g})"
    else:
        reason = f"bryter regelen «{check}»"
    return _problems([case.row], case.column, [value], reason)


def _usable_ids(table: str, column: str, parsed, bad) -> pd.Index:
    frame = parsed[table]
    ok = ~frame.index.isin(bad[table]["row"])
    return pd.Index(frame.loc[ok, column].dropna().unique())


def _reference_problems(frame, raw, spec, parsed, bad, raws) -> pd.DataFrame:
    found = [_no_problems()]
    for name, col in spec.columns.items():
        if not col.references or name not in raw.cells.columns:
            continue
        rt, rc = col.reference_table, col.reference_column
        values = frame[name]
        known = _usable_ids(rt, rc, parsed, bad)
        broken = values.notna() & ~_isin(values, known)
        if not broken.any():
            continue
        exists = values[broken].isin(parsed[rt][rc].dropna())
        reasons = np.where(
            exists,
            f"viser til en rad i {rt} som er satt i karantene",
            f"finnes ikke i {rt}" if rt in raws else f"tabellen {rt} finnes ikke i uttrekket",
        )
        found.append(_problems(frame.index[broken], name, raw.cells[name][broken], reasons))
    return pd.concat(found, ignore_index=True)


def _isin(values: pd.Series, known: pd.Index) -> pd.Series:
    """``values.isin(known)``; pyarrow's is_in for arrow strings (pandas' is ~10x slower there)."""
    if isinstance(values.array, pd.arrays.ArrowStringArray):
        import pyarrow as pa
        import pyarrow.compute as pc

        hit = pc.is_in(pa.array(values.array), value_set=pa.array(known.astype(object), type=pa.large_string()))
        return pd.Series(hit.to_numpy(zero_copy_only=False), index=values.index).fillna(False).astype(bool)
    return values.isin(known)


def _anchor_problems(frame, raw, parsed, bad) -> pd.DataFrame:
    """A follow-up's anchor must be a usable row of the table its kind points to."""
    treatments = parsed["treatments"][~parsed["treatments"].index.isin(bad["treatments"]["row"])]
    enrolments = parsed["enrolments"][~parsed["enrolments"].index.isin(bad["enrolments"]["row"])]
    t_kind = dict(zip(treatments["treatment_id"], treatments["kind"]))
    e_closed = dict(zip(enrolments["enrolment_id"], enrolments["closed_date"].notna()))
    all_t, all_e = set(parsed["treatments"]["treatment_id"].dropna()), set(parsed["enrolments"]["enrolment_id"].dropna())
    rows, values, reasons = [], [], []
    valid = frame["kind"].notna() & frame["anchor_id"].notna() & frame["kind"].isin(list(ANCHOR_TABLE))
    for row, kind, anchor in frame.loc[valid, ["kind", "anchor_id"]].itertuples():
        table, wanted = ANCHOR_TABLE[kind]
        reason = None
        if table == "treatments":
            if anchor not in t_kind:
                reason = "viser til en behandling i karantene" if anchor in all_t else "behandlingen finnes ikke i treatments"
            elif t_kind[anchor] != wanted:
                reason = f"er en {t_kind[anchor].upper()}-behandling, men oppfølgingstypen er {kind}"
        else:
            if anchor not in e_closed:
                reason = "viser til en innskriving i karantene" if anchor in all_e else "innskrivingen finnes ikke i enrolments"
            elif not e_closed[anchor]:
                reason = "innskrivingen er ikke avsluttet (closed_date er blank), så avsluttet_12m kan ikke gjelde den"
        if reason:
            rows.append(row)
            values.append(raw.cells.at[row, "anchor_id"])
            reasons.append(reason)
    return _problems(rows, "anchor_id", values, reasons)


def _empty_frame(spec: codebook.Table) -> pd.DataFrame:
    frame = pd.DataFrame({n: pd.Series(dtype=schemas.DTYPES[c.type]) for n, c in spec.columns.items()})
    frame.index.name = "row"
    return _categorise(frame, spec)


def _categorise(frame: pd.DataFrame, spec: codebook.Table) -> pd.DataFrame:
    for name, col in spec.columns.items():
        if col.type == "code":
            frame[name] = pd.Categorical(frame[name].astype(object), categories=list(col.codes))
    return frame


def _assemble(folder, cb, raws, parsed, bad, report) -> Registry:
    tables = {}
    for name, spec in cb.tables.items():
        frame, problems = parsed[name], bad[name]
        raw = raws.get(name)
        if raw is None:
            tables[name] = frame
            report.summaries[name] = TableSummary(name, None)
            continue
        problems = problems.sort_values(["row"], kind="stable")
        qrows = problems["row"].unique()
        file = raw.source.path.name
        report.problems.extend(
            Problem(name, file, int(p.row), p.column, str(p.value), p.reason) for p in problems.itertuples()
        )
        report.quarantine[name] = _quarantine_frame(raw, problems, qrows)
        used = frame[~frame.index.isin(qrows)].copy()
        tables[name] = _categorise(used, spec)
        report.summaries[name] = TableSummary(
            name, file, raw.rows_read, len(used), raw.rows_read - len(used), notes=list(raw.source.notes)
        )
    return Registry(path=folder, tables=tables, report=report, sources={n: r.source for n, r in raws.items()})


def _quarantine_frame(raw: RawTable, problems: pd.DataFrame, qrows) -> pd.DataFrame:
    cols = list(raw.cells.columns)
    if not len(qrows):
        return pd.DataFrame(columns=[*cols, "row", "quarantine_reason"])
    reasons = problems.assign(
        text=[
            Problem("", "", r, c, str(v), why).quarantine_reason
            for r, c, v, why in problems[["row", "column", "value", "reason"]].itertuples(index=False)
        ]
    ).groupby("row", sort=True)["text"].agg("; ".join)
    kept = raw.cells.loc[raw.cells.index.isin(qrows)]
    ragged = pd.DataFrame(
        [dict(zip(cols, cells)) for cells in raw.ragged.values()], index=list(raw.ragged), columns=cols
    )
    out = pd.concat([kept, ragged]).sort_index()
    out["row"] = out.index.astype("int64")
    out["quarantine_reason"] = out["row"].map(reasons)
    return out.reset_index(drop=True)
