"""One declaration per published table (opr_analysis.stats.table_registry): the report's tables and
sentences, the notebook's cells, the workbook and the suppression audit all follow from it. A table that is
not fully declared fails here, naming what is missing. The last test follows the recipe of
docs/architecture.md («Recipe: add a published table») with a toy suppressed breakdown."""

import copy
import inspect
from pathlib import Path

import nbformat
import openpyxl
import pandas as pd
import pytest
from bs4 import BeautifulSoup
from helpers import make_extract

from opr_analysis import cli
from opr_analysis.extract.needs import reads
from opr_analysis.report import publication
from opr_analysis.report.publication import Publication, synced_notebook
from opr_analysis.report.suppression import recorded_tables, recoverable_cells
from opr_analysis.report.workbook import write_workbook
from opr_analysis.stats import table_registry
from opr_analysis.stats.export import compute_tables, published_tables
from opr_analysis.stats.table_registry import (
    TABLES,
    Administrative,
    Column,
    Margin,
    PatientCounts,
    Report,
    Table,
    count,
    missing_declarations,
)

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "annual_report.ipynb"
AS_OF = "2024-12-31"


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """A tiny extract with rows in every table the statistics read, years 2020–2024 (the baseline trend
    series starts in 2021, so its declared margin is tested against a year outside it too)."""
    year = {i: 2020 + i % 5 for i in range(1, 11)}
    return make_extract(
        tmp_path_factory.mktemp("small"),
        patients=[dict(patient_id=f"P{i}", birth_year=1950 + i, sex="KM"[i % 2]) for i in year],
        referrals=[dict(patient_id=f"P{i}", assessed_date=f"{y}-0{1 + i % 8}-10", decision="rett", region="lokal")
                   for i, y in year.items()]
        + [dict(patient_id="PX", assessed_date="2024-03-03", decision="avvist", region="regional")],
        enrolments=[dict(patient_id=f"P{i}", granted_date=f"{y}-02-01", first_consultation_date=f"{y}-03-01")
                    for i, y in year.items()],
        baseline_responses=[dict(patient_id=f"P{i}", submitted_at=f"{y}-02-10 10:00:00", duration_ms=600000 + i)
                            for i, y in year.items() if i != 3],
        # every count of the follow-up table once at least: answered or not, awaiting an answer (T11), owed
        # and never sent (T12), sent twice (the second not owed, answered)
        treatments=[dict(treatment_id=f"T{i}", patient_id=f"P{i}", kind="rf", date=f"{y}-03-01")
                    for i, y in year.items()]
        + [dict(treatment_id="T11", patient_id="P4", kind="rf", date="2024-09-10"),
           dict(treatment_id="T12", patient_id="P6", kind="rf", date="2021-04-01")]
        # the implant register (issue 27): three SCS systems, removals in two years
        + [dict(treatment_id=f"S{i}", patient_id=f"P{i}", kind="scs", date=f"202{i}-03-01") for i in (1, 2, 3)],
        followups=[dict(patient_id=f"P{i}", kind="rf_3m", anchor_id=f"T{i}", sent_date=f"{y}-06-01",
                        responded_at=f"{y}-06-05T10:00:00" if i % 3 else None) for i, y in year.items()]
        + [dict(patient_id="P4", kind="rf_3m", anchor_id="T11", sent_date="2024-12-10"),
           dict(patient_id="P1", kind="rf_3m", anchor_id="T1", sent_date="2021-06-20",
                responded_at="2021-06-25T10:00:00")],
        implants=[
            dict(patient_id="P1", treatment_id="S1", component="generator", manufacturer="M", model="G",
                 serial_number="S1", implanted_date="2021-03-01"),
            dict(patient_id="P1", treatment_id="S1", component="elektrode", manufacturer="M", model="E",
                 serial_number="S2", implanted_date="2021-03-01", explanted_date="2021-06-01",
                 explant_reason="elektrodevandring"),
            dict(patient_id="P2", treatment_id="S2", component="generator", manufacturer="M", model="G",
                 serial_number="S3", implanted_date="2022-03-01", explanted_date="2024-02-01",
                 explant_reason="infeksjon"),
            dict(patient_id="P3", treatment_id="S3", component="generator", manufacturer="M", model="G",
                 serial_number="S4", implanted_date="2023-03-01"),
        ],
    )  # fmt: skip


def test_every_table_is_fully_declared(small):
    tables = compute_tables(small, as_of=AS_OF)
    missing = [m for t in TABLES for m in missing_declarations(t, list(tables[t.name].columns))]
    assert not missing, "declare these in opr_analysis/stats/table_registry.py:\n" + "\n".join(missing)


def _toy(reg) -> pd.DataFrame:
    return pd.DataFrame({"year": [2024], "n": [3]})


def test_a_table_that_is_not_fully_declared_is_named_with_what_it_lacks():
    bare = Table("toy_bare", _toy, "Leketabell")
    assert missing_declarations(bare, ["year", "n"]) == [
        "toy_bare: no columns declared (Column(name, heading, unit))",
        "toy_bare: column «year» has no declared heading (Column)",
        "toy_bare: column «n» has no declared heading (Column)",
        "toy_bare: no suppression class (PatientCounts, Administrative(reason) or StaffList(reason))",
        "toy_bare: no workbook sheet name",
        "toy_bare: no report: Report(label, caption, …) or the reason it is not a table of the report",
    ]
    half = Table(
        "toy_half", _toy, "Leketabell", columns=(Column("year", "År"), count("n", "Antall")),
        suppression=PatientCounts(("n",), margins=(Margin(("year", "sex")),)),
        sheet="quality_consultation_before_gra", report=Report("kjonn", "Leketabell"),
    )  # fmt: skip
    assert missing_declarations(half, ["year", "n", "extra"]) == [
        "toy_half: column «extra» has no declared heading (Column)",
        "toy_half: column «sex» of the suppression is not declared",
        "toy_half: column «extra» of a patient-count table is not in its suppression (a key, a count, a part, "
        "a share or a public column), nor internal",
        "toy_half: sheet name «quality_consultation_before_gra» is not readable Norwegian of at most 31 characters "
        "(no _ : \\ / ? * [ ])",
        "toy_half: report label «kjonn» does not start with «tbl-»",
    ]
    assert missing_declarations(Table("toy_adm", _toy, "Leke", suppression=Administrative(" ")))[1] == (
        "toy_adm: Administrative without a reason"
    )


def test_report_builders_cells_twins_and_sentences_resolve():
    for t in (t for t in TABLES if t.in_report):
        build, cells, say = publication.builder(t), publication.cells_function(t), publication.sentence_function(t)
        assert (build is None) == (cells is None) == (t.report.builder is None), t.name
        if build is not None:  # the style rule: a plain-data *_cells twin beside every great-tables builder
            assert cells.__name__ == build.__name__.removesuffix("_table") + "_cells", t.name
            assert list(inspect.signature(cells).parameters)[1:] == list(inspect.signature(build).parameters)[1:]
        if say is not None and t.patient_counts:  # a sentence can only quote what the table shows
            assert next(iter(inspect.signature(say).parameters)) == "cells", t.name


def test_every_report_table_and_sentence_renders_with_its_caption_id(small):
    tables = compute_tables(small, as_of=AS_OF)
    pub = Publication(tables, 2024, [2022, 2023, 2024], min_cell=5)
    for t in (t for t in TABLES if t.in_report and len(tables[t.name])):
        assert f'id="opr-{t.name}"' in pub.table(t.name).as_raw_html(), t.name
        if t.report.sentence:
            text = pub.sentence(t.name).data
            assert "{" not in text and str(2024) in text, (t.name, text)
    # the template of the breakdown quotes the cross table's published margins
    cells = pub.cells("referrals_by_sex_age").set_index("label")
    assert pub.sentence("referrals_by_sex_age").data == (
        f"I 2024 ble {cells.at['Alle', 'Alle']} henvisninger gitt rett til helsehjelp, {cells.at['Alle', 'Kvinner']} "
        f"for kvinner og {cells.at['Alle', 'Menn']} for menn (@tbl-kjonn-alder)."
    )


def test_figures_hide_what_the_table_hides():
    frame = pd.DataFrame({"year": [2020, 2024], "enrolments": [40, 50], "enrolments_with_baseline": [3, 30]})
    frame["response_share"] = frame["enrolments_with_baseline"] / frame["enrolments"]
    pub = Publication({"baseline_response_patient_level": frame}, 2024, [2020, 2024], min_cell=5)
    assert pub.hidden("baseline_response_patient_level", "response_share").tolist() == [True, False]
    assert pub.published("baseline_response_patient_level")["enrolments_with_baseline"].tolist() == ["×", 30]


def test_margins_published_by_other_tables_agree_with_them(small):
    tables = compute_tables(small, as_of=AS_OF)
    checked = 0
    for t in TABLES:
        for m in getattr(t.suppression, "margins", ()):
            if not m.published_by:
                continue
            mine = tables[t.name].query(m.where) if m.where else tables[t.name]
            other = tables[m.published_by]
            other = other.query(m.published_where) if m.published_where else other
            for col in m.columns or t.suppression.counts:
                theirs = m.published_column or col
                if m.by:
                    a = mine.groupby(list(m.by))[col].sum()
                    b = other.groupby(list(m.by))[theirs].sum().reindex(a.index, fill_value=0)
                    assert a.tolist() == b.tolist() and a.sum() > 0, (t.name, m)
                else:
                    assert int(mine[col].sum()) == int(other[theirs].sum()) > 0, (t.name, m)
                checked += 1
    # referrals by sex and age (table 11), baseline per enrolment (trend tests), follow-ups per kind (totals)
    assert checked >= 12


def test_the_notebook_shows_every_report_table_through_its_declaration():
    """The notebook's table cells are written by `make docs`; run it when this fails."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    synced = synced_notebook(copy.deepcopy(nb))
    stale = [
        (c.metadata.get("opr_table") or {}).get("table", c.source[:40])
        for c, s in zip(nb.cells, synced.cells, strict=False)
        if (c.source, c.metadata) != (s.source, s.metadata)
    ]
    assert len(nb.cells) == len(synced.cells) and not stale, f"run make docs; stale or missing cells: {stale}"
    for t in (t for t in TABLES if t.in_report):
        cells = [c for c in nb.cells if f"#| label: {t.report.label}\n" in c.source]
        assert len(cells) == 1 and f'pub.table("{t.name}")' in cells[0].source, t.name
        assert f"#| tbl-cap: {publication.json.dumps(t.report.caption, ensure_ascii=False)}" in cells[0].source


# --- the recipe of docs/architecture.md, followed with a toy table ----------------------------


@reads("referrals", "patients")
def toy_referrals_by_sex(reg) -> pd.DataFrame:
    """1. The statistic: referrals granted the right to health care per year and sex (``ukjent``: no patient)."""
    r = reg.referrals[(reg.referrals["decision"] == "rett").to_numpy()]
    sex = r["patient_id"].map(reg.patients.set_index("patient_id")["sex"].astype(object)).fillna("ukjent")
    rows = pd.DataFrame({"year": r["assessed_date"].dt.year.astype("int64"), "sex": sex.to_numpy()})
    grid = pd.MultiIndex.from_product([sorted(rows["year"].unique()), ["K", "M", "ukjent"]], names=["year", "sex"])
    return rows.groupby(["year", "sex"]).size().reindex(grid, fill_value=0).rename("n").reset_index()


def toy_sentence(cells: pd.DataFrame, year: int) -> str:
    """The sentence: quotes the displayed cells only."""
    women = cells.set_index("sex").loc["Kvinner", "n"]
    return f"I {year} gjaldt {women} av henvisningene med rett til helsehjelp kvinner (@tbl-leke-kjonn)."


#: 2. The declaration.
TOY = Table(
    "toy_referrals_by_sex", toy_referrals_by_sex, "Henvisninger gitt rett til helsehjelp etter kjønn (lek)",
    columns=(
        Column("year", "År"), Column("sex", "Kjønn", labels={"K": "Kvinner", "M": "Menn", "ukjent": "Ukjent"}),
        count("n", "Antall"),
    ),
    suppression=PatientCounts(counts=("n",), keys=("year", "sex"), margins=(Margin(("year",)),)),
    sheet="Leke, henvisninger per kjønn",
    report=Report(
        "tbl-leke-kjonn", "Henvisninger gitt rett til helsehjelp etter kjønn (lek)", sentence=toy_sentence,
        years="report", after="tbl-region",
    ),
)  # fmt: skip


@pytest.fixture()
def toy():
    entry = table_registry.register(TOY)
    yield entry
    table_registry.unregister(TOY.name)


def test_recipe_add_a_suppressed_table(toy, tmp_path):
    # 2024: 3 women, 6 men, 1 unknown; 2023: 7 women, 5 men (and a rejected referral, not counted)
    pids = ["K1", "K2", "K3", "M1", "M2", "M3", "M4", "M5", "M6", "PX"]
    pids_2023 = [f"K{i}" for i in range(1, 8)] + [f"M{i}" for i in range(1, 6)]
    reg = make_extract(
        tmp_path / "extract",
        patients=[dict(patient_id=f"{s}{i}", sex=s) for s in "KM" for i in range(1, 8)],
        referrals=[dict(patient_id=p, assessed_date="2024-05-02", decision="rett") for p in pids]
        + [dict(patient_id=p, assessed_date="2023-05-02", decision="rett") for p in pids_2023]
        + [dict(patient_id="K1", assessed_date="2024-06-01", decision="avvist")],
    )  # fmt: skip
    tables = compute_tables(reg, as_of=AS_OF)
    assert missing_declarations(toy, list(tables[toy.name].columns)) == []
    # CSV: opr tables writes it, unsuppressed (the registry's own numbers)
    out = tmp_path / "tables"
    assert cli.main(["tables", str(reg.path), "--out", str(out), "--as-of", AS_OF]) == 0
    csv = pd.read_csv(out / f"{toy.name}.csv")
    assert csv[csv["year"] == 2024]["n"].tolist() == [3, 6, 1]
    # Report: the table with its caption and label in the notebook, its sentence, the hidden cells
    nb = synced_notebook(nbformat.read(NOTEBOOK, as_version=4))
    at = [i for i, c in enumerate(nb.cells) if "#| label: tbl-region\n" in c.source][0]
    assert nb.cells[at + 1].source == 'pub.sentence("toy_referrals_by_sex")'
    assert nb.cells[at + 2].source == (
        '#| label: tbl-leke-kjonn\n#| tbl-cap: "Henvisninger gitt rett til helsehjelp etter kjønn (lek)"\n'
        'pub.table("toy_referrals_by_sex")'
    )
    with recorded_tables() as recorded:
        pub = Publication(tables, 2024, [2022, 2023, 2024], min_cell=5)
        cells = pub.cells(toy.name)
        # 3 and 1 are under 5; the year's total (10) is published, so a third count (6) is hidden too
        assert cells[["sex", "n"]].values.tolist() == [["Kvinner", "×"], ["Menn", "×"], ["Ukjent", "×"]]
        html = pub.table(toy.name).as_raw_html()
        rows = [[td.get_text() for td in tr.find_all("td")] for tr in BeautifulSoup(html, "html.parser")("tr")]
        assert ["2024", "Kvinner", "×"] in rows and "«×»" in html  # the source note explains the symbol
        assert pub.sentence(toy.name).data == (
            "I 2024 gjaldt × av henvisningene med rett til helsehjelp kvinner (@tbl-leke-kjonn)."
        )
        # Workbook: its sheet, Norwegian headings, the same hidden cells
        path = write_workbook(published_tables(reg, as_of=AS_OF), tmp_path / "t.xlsx", min_cell=5)
    ws = openpyxl.load_workbook(path)[toy.sheet]
    assert [c.value for c in ws[1]] == ["År", "Kjønn", "Antall"]
    assert list(ws.iter_rows(min_row=2, values_only=True)) == [
        (2023, "Kvinner", 7), (2023, "Menn", 5), (2023, "Ukjent", 0),
        (2024, "Kvinner", "×"), (2024, "Menn", "×"), (2024, "Ukjent", "×"),
    ]  # fmt: skip
    # Audit: every suppressed table built above, the toy's included, leaves no hidden count recoverable
    toys = [t for t in recorded if 3 in t.values.tolist() and 6 in t.values.tolist()]
    assert toys and all(recoverable_cells(t) == [] for t in recorded)
    # Docs: make docs lists it
    assert f"## `{toy.name}`" in table_registry.tables_markdown()


def test_architecture_recipe_is_the_real_code():
    """The worked example in docs/architecture.md is the code as it is: the statistic's opening lines and
    the declaration, evaluated, equal the module's."""
    import re
    import textwrap

    from opr_analysis.stats import referrals

    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    recipe = doc[doc.index("## Recipe: add a published table") :]
    statistic, declaration = (textwrap.dedent(b) for b in re.findall(r"```python\n(.*?)```", recipe, re.S)[:2])
    assert statistic.strip() in inspect.getsource(referrals)
    assert eval(declaration, vars(table_registry)) == table_registry.get("referrals_by_sex_age")  # noqa: S307
