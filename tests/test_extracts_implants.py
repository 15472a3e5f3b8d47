"""Research deliveries with the implant register (contract v1.2, issue 27): the implants level, and
serial numbers and lots never leave."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from helpers import write_research_extract, write_spec

from opr_analysis.errors import UsageError
from opr_analysis.extracts import deliver
from opr_analysis.extracts.spec import load_spec
from opr_analysis.extracts.variables import classify, resolve


@pytest.fixture(scope="module")
def extract(tmp_path_factory):
    folder = write_research_extract(tmp_path_factory.mktemp("extract") / "ex")
    trt = pd.read_csv(folder / "treatments.csv", dtype=str)
    rows = []
    for k, t in enumerate(trt[trt["kind"] == "scs"].itertuples()):
        for component in ("generator", "elektrode"):
            out = k % 3 == 0 and component == "elektrode"
            rows.append(
                {
                    "implant_id": f"IMP-{len(rows) + 1:05d}",
                    "patient_id": t.patient_id,
                    "treatment_id": t.treatment_id,
                    "component": component,
                    "manufacturer": "Nordstim Medical",
                    "model": "Vega P" if component == "generator" else "Linea 8",
                    "serial_number": f"SER-{len(rows) + 1:05d}",
                    "lot": f"LOT-{k:05d}",
                    "implanted_date": t.date,
                    "explanted_date": str((pd.Timestamp(t.date) + pd.Timedelta(days=90)).date()) if out else "",
                    "explant_reason": "elektrodevandring" if out else "",
                }
            )
    pd.DataFrame(rows).to_csv(folder / "implants.csv", index=False)
    return folder


IMPLANT_VARIABLES = ["implants.component", "implants.manufacturer", "implants.model", "implants.implanted_date",
                     "implants.explanted_date", "implants.explant_reason", "days_to_explant", "treatment_no"]  # fmt: skip


@pytest.mark.parametrize("column", ["serial_number", "lot"])
def test_serial_number_and_lot_are_refused_by_name(tmp_path, column):
    with pytest.raises(UsageError, match=f"«implants.{column}» er en direkte identifikator") as exc:
        resolve(f"implants.{column}", "implants")
    assert "utleveres aldri" in str(exc.value)
    spec = write_spec(tmp_path / "s.yaml", variables={"enrolments": ["age_band"], "implants": [column]})
    with pytest.raises(UsageError, match="direkte identifikator"):
        load_spec(spec)


def test_implant_variables_are_classified():
    assert classify(resolve("implants.implanted_date", "implants")) == "quasi_identifier"
    assert classify(resolve("implants.explant_reason", "implants")) == "other"
    assert resolve("implants.component", "implants").codes["generator"].startswith("Generator")


def test_delivery_has_every_implanted_component(tmp_path, extract, keys):
    spec = write_spec(
        tmp_path / "s.yaml",
        formats=["csv"],
        dates="relative",  # days since enrolment: not quasi-identifying, so no patient is generalised away
        variables={"enrolments": ["treated_scs"], "implants": IMPLANT_VARIABLES},
    )
    done = deliver(spec, extract, tmp_path / "out", key_dir=keys, docs=False)
    imp = pd.read_csv(done.folder / "implants.csv", dtype=str, keep_default_na=False)
    source = pd.read_csv(extract / "implants.csv", dtype=str, keep_default_na=False)
    assert len(imp) == len(source) and list(imp.columns[:3]) == ["pid", "enrolment_seq", "implant_no"]
    assert imp["treatment_no"].ne("").all()  # every component tied to its delivered treatment
    moved = imp[imp["explant_reason"] == "elektrodevandring"]
    assert len(moved) == (source["explant_reason"] != "").sum()
    assert (moved["days_to_explant"].astype(int) == 90).all()
    assert (moved["explanted_date"].astype(int) - moved["implanted_date"].astype(int) == 90).all()


def test_no_serial_lot_or_id_in_any_delivered_file(tmp_path, extract, keys):
    from opr_analysis.safety.privacy import file_text

    spec = write_spec(
        tmp_path / "s.yaml",
        formats=["csv", "xlsx", "sav"],
        dates="month",
        variables={"enrolments": ["treated_scs"], "implants": IMPLANT_VARIABLES},
    )
    done = deliver(spec, extract, tmp_path / "out", key_dir=keys, docs=False)
    imp = pd.read_csv(done.folder / "implants.csv", dtype=str, keep_default_na=False)
    assert len(imp) and imp["implanted_date"].str.fullmatch(r"\d{4}-\d{2}|\d{4}|\d+").all()  # month, or generalised
    source = pd.read_csv(extract / "implants.csv", dtype=str, keep_default_na=False)
    secrets = set(source["serial_number"]) | set(source["lot"]) | set(source["patient_id"]) | set(source["implant_id"])
    for path in done.folder.iterdir():
        text = file_text(path) if path.suffix in (".xlsx", ".sav") else path.read_text("utf-8", errors="replace")
        assert not set(re.findall(r"[\w-]+", text)) & secrets, path.name
