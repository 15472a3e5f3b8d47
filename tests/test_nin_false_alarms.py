"""Issue 23: the wider identity-number detector (dates written as dates) keeps false alarms at zero.

On every output of a synthetic multi-unit registry (``opr tables``, ``opr indicators``, a unit's
report and workbook, the follow-up audit), on many SHA-256 digests and on the dates, times and date ranges
outputs hold, nothing is found and nothing passes the whole-file prefilter where none is due. No
valid identity number is written here as a literal: the planted ones are built at run time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random

import pandas as pd
import pytest

from opr_analysis.safety.nin import find_nins, make_valid_nin, may_hold_nin
from opr_analysis.safety.privacy import file_text

AS_OF = "2025-06-30"


@pytest.fixture(scope="module")
def outputs(unit_report, tmp_path_factory):
    """Every file the tables, indicators and follow-up audit commands write for a synthetic registry of three
    units, and the report (HTML and workbook) of one unit: tests/conftest.py's ``unit_report``, its extract
    and its run."""
    from opr_analysis import load_extract
    from opr_analysis.indicators.output import write_indicators
    from opr_analysis.stats import followup_audit
    from opr_analysis.stats.export import write_tables

    base = tmp_path_factory.mktemp("falske-alarmer")
    reg = load_extract(unit_report.extract)
    as_of = pd.Timestamp(AS_OF)
    files = list(write_tables(reg, base / "tabeller", as_of=as_of))  # each writer scans its own output too
    files += write_indicators(reg, base / "indikatorer", as_of=as_of)
    files += unit_report.files
    audit = base / "oppfolging.csv"
    followup_audit(reg, as_of=as_of).to_csv(audit, index=False)
    files.append(audit)
    return files


def test_synthetic_outputs_hold_no_identity_number(outputs):
    assert len(outputs) > 15
    for path in outputs:
        text = file_text(path)
        assert find_nins(text) == [], path.name


def test_random_digests_never_alarm():
    rng = random.Random(23)
    digests = [hashlib.sha256(rng.randbytes(16)).hexdigest() for _ in range(20_000)]
    text = "\n".join(f'"f{i}.csv": "{d}",' for i, d in enumerate(digests))
    assert find_nins(text) == []
    # the same digests upper-cased and split into groups, as some tools print them
    grouped = "\n".join(" ".join(d[i : i + 8].upper() for i in range(0, 64, 8)) for d in digests[:5000])
    assert find_nins(grouped) == []


def _random_days(rng: random.Random, n: int) -> list[dt.date]:
    start = dt.date(1990, 1, 1).toordinal()
    return [dt.date.fromordinal(start + rng.randrange(40_000)) for _ in range(n)]


def test_dates_times_and_ranges_as_outputs_write_them_never_alarm():
    """ISO dates before a CSV field, datetimes, times, Norwegian dates with a time, date ranges, counts with
    thousands separators after a date: what the report and the CSV files hold. None may alarm, and the
    CSV-shaped ones do not even pass the whole-file prefilter."""
    rng = random.Random(7)
    days = _random_days(rng, 20_000)
    csv_lines = [f"{d.isoformat()},{rng.randrange(10_000, 100_000)},{rng.randrange(100)}" for d in days] + [
        f"{d.isoformat()}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}" for d in days
    ]
    csv_text = "\n".join(csv_lines)
    assert not may_hold_nin(csv_text) and find_nins(csv_text) == []
    prose = (
        [f"{d:%d.%m.%Y} {rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}" for d in days]
        + [
            f"{a:%d.%m.%Y}–{b:%d.%m.%Y}: {rng.randrange(10, 100)}\u00a0{rng.randrange(1000):03d} henvisninger"
            for a, b in zip(days, reversed(days), strict=True)
        ]
        + [f"{d.isoformat()} – {rng.randrange(1, 9999)} pasienter" for d in days]
    )
    assert find_nins("\n".join(prose)) == []


def test_a_planted_number_among_the_dates_is_still_found():
    nin = make_valid_nin("240385")
    rng = random.Random(3)
    lines = [f"{d.isoformat()},{rng.randrange(10_000, 100_000)}" for d in _random_days(rng, 2000)]
    lines.insert(1000, f"2024-05-01,Klinikk {nin[:2]}.{nin[2:4]}.{nin[4:6]} {nin[6:]}")
    text = "\n".join(lines)
    assert may_hold_nin(text) and find_nins(text) == [nin]
