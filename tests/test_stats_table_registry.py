"""The table registry (opr_analysis.stats.table_registry): one entry per published table, everything derived."""

import importlib
import inspect
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from helpers import make_extract

import opr_analysis
from opr_analysis import cli, stats
from opr_analysis.stats import table_registry
from opr_analysis.stats.export import CONTRACT_COLUMNS, compute_tables, report_tables, write_tables
from opr_analysis.stats.table_registry import HELPERS, TABLES, Table

ROOT = Path(__file__).resolve().parents[1]
# Modules whose public functions are statistics (the questionnaire modules have their own public API).
STATISTICS_MODULES = (
    "baseline",
    "completion",
    "followup",
    "quality",
    "referrals",
    "rights_requests",
    "short_forms",
    "trends",
)


@pytest.fixture()
def reg(tmp_path):
    return make_extract(
        tmp_path / "extract",
        referrals=[dict(assessed_date="2021-01-01", decision="rett", region="lokal"),
                   dict(assessed_date="2022-03-01", decision="avvist", region="regional")],
        enrolments=[dict(patient_id="P1", granted_date="2021-01-05")],
    )  # fmt: skip


def toy_rejected_per_region(reg) -> pd.DataFrame:
    """A toy statistic: rejected referrals per region (all years)."""
    r = reg.referrals
    rows = r[r["decision"] == "avvist"]
    return rows.groupby("region", observed=True).size().rename("n").reset_index()


@pytest.fixture()
def toy():
    entry = table_registry.register(Table("toy_rejected", toy_rejected_per_region, "Avviste per region (test)"))
    yield entry
    table_registry.unregister("toy_rejected")


def test_a_registered_statistic_appears_everywhere(reg, toy, tmp_path):
    # opr tables writes it
    out = tmp_path / "tables"
    assert cli.main(["tables", str(reg.path), "--out", str(out), "--as-of", "2023-12-31"]) == 0
    written = pd.read_csv(out / "toy_rejected.csv")
    assert written.to_dict("list") == {"region": ["regional"], "n": [1]}
    # the public API has it, at the top level and in stats
    assert opr_analysis.toy_rejected_per_region is toy_rejected_per_region
    assert stats.toy_rejected_per_region is toy_rejected_per_region
    assert "toy_rejected_per_region" in dir(opr_analysis)
    # the report notebook's data (compute_tables) has it
    assert compute_tables(reg, as_of="2023-12-31")["toy_rejected"].to_dict("list") == written.to_dict("list")
    # the generated docs list it
    assert "`toy_rejected`" in table_registry.tables_markdown()


def test_unregistered_toy_is_gone(reg, tmp_path):
    assert "toy_rejected" not in compute_tables(reg, as_of="2023-12-31")
    with pytest.raises(AttributeError):
        opr_analysis.toy_rejected_per_region  # noqa: B018


def test_every_public_statistic_is_registered_or_a_listed_helper():
    registered = {t.function_name for t in TABLES}
    missing = []
    for name in STATISTICS_MODULES:
        module = importlib.import_module(f"opr_analysis.stats.{name}")
        for attr, obj in vars(module).items():
            if attr.startswith("_") or not inspect.isfunction(obj) or obj.__module__ != module.__name__:
                continue
            if attr not in registered and attr not in HELPERS:
                missing.append(f"stats.{name}.{attr}")
    assert not missing, f"register these in stats/table_registry.py (TABLES) or list them in HELPERS: {missing}"


def test_every_entry_and_helper_resolves():
    for table in TABLES:
        assert callable(table.resolve()), table.name
        assert table.source is None or table.source in {t.name for t in TABLES}
    for name, module in HELPERS.items():
        assert hasattr(importlib.import_module(f"opr_analysis.stats.{module}"), name), name
    assert len({t.name for t in TABLES}) == len(TABLES), "table names are unique"


def test_contract_tables_are_the_contracts_seven_with_its_columns():
    assert list(CONTRACT_COLUMNS) == [
        "referrals_assessed", "referrals_by_region", "baseline_response", "legacy_baseline_response",
        "completion_time", "short_form_reasons", "followup_response",
    ]  # fmt: skip
    # The project's own copy of the contract (docs/data-contract.md), never a file outside the repository.
    contract = (ROOT / "docs" / "data-contract.md").read_text(encoding="utf-8")
    assert contract.startswith("# OPR registry extract — data contract v1.2\n")
    section = contract.split("## Machine-readable report tables (output)", 1)[1].split("\n## ", 1)[0]
    listed = {}
    for row in re.findall(r"^\| `(\w+)\.csv` \| (.+?) \|", section, flags=re.M):
        # "decision (`rett`/`avvist`), n, share (= a / b)": the names before any parenthesised remark
        listed[row[0]] = [c.split("(")[0].strip() for c in re.sub(r"\([^)]*\)", "", row[1]).split(",")]
    assert listed == CONTRACT_COLUMNS


def test_write_tables_follows_registry_order(reg, tmp_path):
    written = write_tables(reg, tmp_path / "t", as_of="2023-12-31")
    assert [p.stem for p in written] == [t.name for t in TABLES]
    assert list(report_tables(reg, as_of="2023-12-31")) == list(CONTRACT_COLUMNS)


def test_public_names_do_not_need_pandas():
    import subprocess
    import sys

    probe = (
        "import sys, json, opr_analysis; "
        "print(json.dumps(['pandas' in sys.modules, 'referrals_assessed' in opr_analysis.__all__]))"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == [False, True]


def test_docs_tables_md_is_current():
    """docs/tables.md is generated; regenerate with `make docs` when this fails."""
    assert (ROOT / "docs" / "tables.md").read_text(encoding="utf-8") == table_registry.tables_markdown()
