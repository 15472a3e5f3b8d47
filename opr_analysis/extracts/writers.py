"""Data-file writers with labels, byte-identical across runs.

Every writer takes the delivered frame and its :class:`ColumnMeta` list.
Codes stay as text codes in CSV, Parquet and Excel; SPSS and Stata get
numeric codes 1..n (codebook order) with value labels, because Stata labels
only integers. Yes/no variables are 1/0 (Parquet: boolean).

SPSS and Stata display formats and SPSS measurement levels follow the
codebook (:func:`stat_format`, :func:`spss_measure`): codes, yes/no and whole
numbers have no decimals (``F4.0``: a year prints as 2021, sex as 1), decimals
are as many as the data need (at most 3); codes and yes/no are nominal (ordinal
when the codes are ordered, e.g. age bands), numbers and dates are scale.

Determinism (verified by tests, two runs more than a second apart):

* CSV: plain text, ``\\n`` line ends; nothing varies.
* Parquet (pyarrow): no timestamps; the schema metadata is replaced by the
  labels so that nothing run-dependent is stored.
* SPSS .sav / Stata .dta (pyreadstat/ReadStat): the header holds the creation
  time and pyreadstat has no option for it, so it is overwritten with a fixed
  value (``01 Jan 70 00:00:00`` / ``01 Jan 1970 00:00``) after writing.
* Excel .xlsx (openpyxl): the zip entries' times and the document's
  created/modified properties are set to 1980-01-01 (the earliest zip time).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

FIXED_TIME = dt.datetime(1980, 1, 1)
EXTENSIONS = {"csv": ".csv", "parquet": ".parquet", "sav": ".sav", "dta": ".dta", "xlsx": ".xlsx"}


@dataclass(frozen=True)
class ColumnMeta:
    """A delivered column: name, label and kind (code | bool | int | float | date | string).

    ``ordered``: the codes have an order (age bands), so SPSS measures them as ordinal.
    """

    name: str
    label: str
    kind: str
    codes: dict[str, str] = field(default_factory=dict)
    disclosure: str = ""  # direct_identifier | quasi_identifier | sensitive | other | pseudonym key
    why: str = ""  # for "other": why the variable type is judged not identifying
    ordered: bool = False


def write(frame: pd.DataFrame, meta: list[ColumnMeta], stem: Path, fmt: str, title: str = "") -> Path:
    """Write ``frame`` as ``stem.<ext>`` in format ``fmt``; returns the path."""
    path = stem.with_suffix(EXTENSIONS[fmt])
    {"csv": write_csv, "parquet": write_parquet, "sav": write_sav, "dta": write_dta, "xlsx": write_xlsx}[fmt](
        frame, meta, path, title
    )
    return path


def _plain(frame: pd.DataFrame, meta: list[ColumnMeta]) -> pd.DataFrame:
    """Codes as text, yes/no as 0/1, dates as ISO text: the CSV and Excel view."""
    out = {}
    for m in meta:
        s = frame[m.name]
        if m.kind == "bool":
            out[m.name] = s.astype("boolean").astype("Int64")
        elif m.kind == "date":
            out[m.name] = s.dt.strftime("%Y-%m-%d").astype("string")
        elif m.kind == "code":
            out[m.name] = s.astype("string")
        elif m.kind == "int":  # whole numbers as such: a blank made them floats on the way ("27.0")
            out[m.name] = pd.to_numeric(s, errors="coerce").astype("Float64").astype("Int64")
        else:
            out[m.name] = s
    return pd.DataFrame(out, index=frame.index)


def write_csv(frame: pd.DataFrame, meta: list[ColumnMeta], path: Path, title: str = "") -> None:
    _plain(frame, meta).to_csv(path, index=False, lineterminator="\n", encoding="utf-8")


def write_parquet(frame: pd.DataFrame, meta: list[ColumnMeta], path: Path, title: str = "") -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    cols = {}
    for m in meta:
        s = frame[m.name]
        if m.kind == "date":
            cols[m.name] = pa.array([None if pd.isna(v) else v.date() for v in s], type=pa.date32())
        elif m.kind == "bool":
            cols[m.name] = pa.array(s.astype("boolean").tolist(), type=pa.bool_())
        elif m.kind == "int":
            cols[m.name] = pa.array([None if pd.isna(v) else int(v) for v in s], type=pa.int64())
        elif m.kind == "float":
            cols[m.name] = pa.array([None if pd.isna(v) else float(v) for v in s], type=pa.float64())
        else:
            cols[m.name] = pa.array([None if pd.isna(v) else str(v) for v in s], type=pa.string())
    fields = [pa.field(m.name, cols[m.name].type, metadata={"label": m.label}) for m in meta]
    labels = {m.name: {"label": m.label, "codes": m.codes} for m in meta}
    schema = pa.schema(
        fields, metadata={"opr_labels": json.dumps(labels, ensure_ascii=False, sort_keys=True), "title": title}
    )
    pq.write_table(pa.table(cols, schema=schema), path)


def numeric_codes(m: ColumnMeta) -> dict[str, int]:
    """The numeric code of each text code in .sav/.dta files: 1..n in codebook order.

    >>> numeric_codes(ColumnMeta("sex", "Kjønn", "code", {"K": "Kvinne", "M": "Mann"}))
    {'K': 1, 'M': 2}
    """
    return {code: i for i, code in enumerate(m.codes, start=1)}


def _decimals(values: np.ndarray, most: int = 3) -> int:
    for d in range(most + 1):
        if np.allclose(values * 10**d, np.round(values * 10**d), rtol=0, atol=1e-6):
            return d
    return most


def stat_format(m: ColumnMeta, values: np.ndarray) -> tuple[int, int] | None:
    """(width, decimals) of a numeric column in .sav/.dta, or None when the writer's own format is right.

    >>> stat_format(ColumnMeta("year", "År", "int"), np.array([2021.0, 2023.0, np.nan]))
    (4, 0)
    >>> stat_format(ColumnMeta("score", "Skår", "float"), np.array([1.25, -10.5]))
    (6, 2)
    >>> stat_format(ColumnMeta("sex", "Kjønn", "code", {"K": "Kvinne", "M": "Mann"}), np.array([1.0, 2.0]))
    (1, 0)
    """
    if m.kind not in ("code", "bool", "int", "float"):
        return None
    finite = values[np.isfinite(values)] if len(values) else values
    if m.kind == "code":
        return len(str(max(len(m.codes), 1))), 0
    if m.kind == "bool":
        return 1, 0
    decimals = 0 if m.kind == "int" or not len(finite) else _decimals(finite)
    digits = len(str(int(np.floor(np.abs(finite).max())))) if len(finite) else 1
    sign = 1 if len(finite) and (finite < 0).any() else 0
    return digits + sign + (decimals + 1 if decimals else 0), decimals


def spss_measure(m: ColumnMeta) -> str:
    """SPSS measurement level: nominal, ordinal or scale."""
    if m.kind in ("code", "bool", "string"):
        return "ordinal" if m.ordered else "nominal"
    return "scale"


def _stat_frame(frame: pd.DataFrame, meta: list[ColumnMeta]) -> tuple[pd.DataFrame, dict, dict]:
    """Frame, column labels and value labels for pyreadstat (codes numbered 1..n)."""
    out, value_labels = {}, {}
    for m in meta:
        s = frame[m.name]
        if m.kind == "code":
            num = numeric_codes(m)
            out[m.name] = np.array([np.nan if pd.isna(v) else float(num[str(v)]) for v in s])
            value_labels[m.name] = {float(i): m.codes[c] for c, i in num.items()}
        elif m.kind == "bool":
            out[m.name] = s.astype("boolean").astype("Float64").to_numpy(dtype=float, na_value=np.nan)
            value_labels[m.name] = {1.0: "Ja", 0.0: "Nei"}
        elif m.kind in ("int", "float"):
            out[m.name] = pd.to_numeric(s).astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        elif m.kind == "date":
            out[m.name] = np.array([None if pd.isna(v) else v.date() for v in s], dtype=object)
        else:
            out[m.name] = np.array(["" if pd.isna(v) else str(v) for v in s], dtype=object)
    return pd.DataFrame(out), {m.name: m.label for m in meta}, value_labels


def _patch(path: Path, offset: int, text: bytes) -> None:
    with open(path, "r+b") as fh:
        fh.seek(offset)
        fh.write(text)


def write_sav(frame: pd.DataFrame, meta: list[ColumnMeta], path: Path, title: str = "") -> None:
    import pyreadstat

    data, labels, value_labels = _stat_frame(frame, meta)
    formats = {
        m.name: stat_format(m, data[m.name].to_numpy(dtype=float))
        for m in meta
        if m.kind != "date" and m.kind != "string"
    }
    pyreadstat.write_sav(
        data,
        path,
        file_label=title[:64],
        column_labels=labels,
        variable_value_labels=value_labels,
        variable_format={name: f"F{w}.{d}" for name, (w, d) in formats.items()},
        variable_measure={m.name: spss_measure(m) for m in meta},
    )
    head = path.read_bytes()[:112]
    if not head.startswith(b"$FL2"):
        raise RuntimeError("uventet SPSS-hode; kan ikke gjøre filen reproduserbar")
    # System-file header: creation date (9 bytes) at 92, creation time (8 bytes) at 101.
    _patch(path, 92, b"01 Jan 7000:00:00")


def write_dta(frame: pd.DataFrame, meta: list[ColumnMeta], path: Path, title: str = "") -> None:
    import pyreadstat

    data, labels, value_labels = _stat_frame(frame, meta)
    formats = {
        m.name: stat_format(m, data[m.name].to_numpy(dtype=float))
        for m in meta
        if m.kind != "date" and m.kind != "string"
    }
    pyreadstat.write_dta(
        data,
        path,
        file_label=title[:80],
        column_labels={k: v[:80] for k, v in labels.items()},
        variable_value_labels={k: {int(c): lab for c, lab in v.items()} for k, v in value_labels.items()},
        variable_format={name: f"%{max(w, 1)}.{d}f" for name, (w, d) in formats.items()},
    )
    raw = path.read_bytes()
    i = raw.find(b"<timestamp>")
    if i < 0 or i > 1000:
        raise RuntimeError("uventet Stata-hode; kan ikke gjøre filen reproduserbar")
    n = raw[i + 11]
    if n:
        _patch(path, i + 12, b"01 Jan 1970 00:00"[:n].ljust(n))


def write_xlsx(frame: pd.DataFrame, meta: list[ColumnMeta], path: Path, title: str = "") -> None:
    from openpyxl import Workbook

    plain = _plain(frame, meta)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("data")
    ws.append([m.name for m in meta])
    for row in plain.itertuples(index=False):
        ws.append([None if pd.isna(v) else (v.item() if hasattr(v, "item") else v) for v in row])
    info = wb.create_sheet("variabler")
    info.append(["variabel", "etikett", "koder"])
    for m in meta:
        info.append([m.name, m.label, "; ".join(f"{c} = {lab}" for c, lab in m.codes.items())])
    wb.properties.creator = "OUS smerteregister"
    wb.properties.title = title
    wb.properties.created = FIXED_TIME
    buf = io.BytesIO()
    wb.save(buf)
    normalise_zip(buf.getvalue(), path)


def normalise_zip(data: bytes, path: Path) -> None:
    """Rewrite a zip (xlsx) with fixed entry times and fixed document dates."""
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ")
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = re.sub(
                    rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:)",
                    rb"\g<1>" + stamp.encode() + rb"\g<3>",
                    body,
                )
            out = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            out.compress_type = zipfile.ZIP_DEFLATED
            out.external_attr = 0o644 << 16
            dst.writestr(out, body)
