"""The implant chapter's pieces: cells (exact), suppression audit, figure data, prose, and no identifier anywhere."""

from __future__ import annotations

import pandas as pd
import pytest
from helpers import IMPLANT_TREATMENTS, IMPLANTS, make_extract

from opr_analysis.report.implant_figures import implant_survival_figure, survival_figure_data
from opr_analysis.report.implant_tables import (
    explants_by_reason_cells,
    implant_survival_cells,
    implanted_per_year_cells,
)
from opr_analysis.report.publication import Publication
from opr_analysis.report.suppression import recorded_tables, recoverable_cells
from opr_analysis.report.workbook import write_workbook
from opr_analysis.stats.export import compute_tables

AS_OF = pd.Timestamp("2024-12-31")
NAMES = ["implanted_per_year", "explants_by_reason", "implant_survival", "implant_survival_summary"]
YEARS = [2022, 2023, 2024]


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    reg = make_extract(tmp_path_factory.mktemp("imp"), treatments=IMPLANT_TREATMENTS, implants=IMPLANTS)
    return compute_tables(reg, AS_OF, NAMES)


def _pub(tables, min_cell):
    return Publication(tables, 2024, YEARS, min_cell=min_cell, as_of=AS_OF.date())


def test_implanted_cells_are_the_counts(tables):
    cells = implanted_per_year_cells(tables["implanted_per_year"], YEARS)
    assert cells[["kind", "2022", "2023", "2024"]].values.tolist() == [
        ["generator", "7", "0", "1"],
        ["elektrode", "1", "0", "1"],
        ["annet", "1", "0", "0"],
        ["totalt", "9", "0", "2"],
    ]
    # administrative: shown exactly whatever min_cell (the declaration says so)
    assert _pub(tables, 5).cells("implanted_per_year").equals(cells)


def test_explant_cells_follow_the_declaration_and_pass_the_audit(tables):
    with recorded_tables() as recorded:
        cells = _pub(tables, 5).cells("explants_by_reason").set_index("kind")
    assert recorded and all(recoverable_cells(t) == [] for t in recorded)
    # every count here is 1–4: hidden; zeros are shown; the totals are small too, and so hidden
    assert cells.loc["infeksjon", ["2022", "2023", "2024", "alle"]].tolist() == ["×", "0", "0", "×"]
    assert cells.loc["annet", ["2022", "alle"]].tolist() == ["0", "0"]
    assert cells.loc["totalt", ["2022", "2023", "2024", "alle"]].tolist() == ["×", "×", "×", "×"]
    open_cells = explants_by_reason_cells(tables["explants_by_reason"], YEARS, min_cell=1).set_index("kind")
    assert open_cells.loc["batteri", ["2022", "2023", "2024", "alle"]].tolist() == ["0", "1", "1", "2"]
    assert open_cells.loc["totalt", ["2022", "2023", "2024", "alle"]].tolist() == ["3", "2", "1", "6"]
    # a window of two years: «alle» still counts every year (2022's removals too)
    two = explants_by_reason_cells(tables["explants_by_reason"], [2023, 2024], min_cell=1).set_index("kind")
    assert list(two.columns) == ["label", "2023", "2024", "alle"] and two.loc["totalt", "alle"] == "6"


def test_survival_cells(tables):
    summary = tables["implant_survival_summary"]
    open_cells = implant_survival_cells(summary, min_cell=1)
    assert open_cells[["systems", "events", "censored", "followed", "survival"]].values.tolist() == [
        ["7", "3", "1", "3", "51,4\u00a0%"],
        ["7", "4", "2", "1", "25,7\u00a0%"],
    ]
    hidden = implant_survival_cells(summary, min_cell=5)
    # 7 = 3 + 1 + 3 with every part hidden would pin each part to 1–5: the total is hidden too
    assert hidden["survival"].tolist() == ["–", "–"] and hidden["systems"].tolist() == ["×", "×"]
    assert _pub(tables, 5).cells("implant_survival_summary").equals(hidden)


def test_figure_stops_where_few_are_followed(tables):
    curve = tables["implant_survival"]
    assert survival_figure_data(curve, min_cell=2)["month"].max() == 16  # 2 followed beyond day 486; 1 beyond 487
    assert implant_survival_figure(curve, min_cell=2) is not None
    assert implant_survival_figure(curve, min_cell=8) is None  # fewer than 8 systems in all


def test_sentences_quote_the_displayed_cells(tables):
    pub = _pub(tables, 1)
    assert pub.sentence("implanted_per_year").data == (
        "I 2024 ble det satt inn 2 komponenter: 1 generator, 1 elektrode og 0 andre komponenter (@tbl-implantater)."
    )
    assert pub.sentence("explants_by_reason").data.replace("\u00a0", " ") == (
        "I 2024 ble 1 komponent tatt ut, og til og med 31.12.2024 er 6 tatt ut i alt (@tbl-eksplantasjoner). "
        "1 av dem (16,7 %; 95 % KI 3,0–56,4 %) ble tatt ut på grunn av infeksjon, og 1 av dem (16,7 %; 95 % KI "
        "3,0–56,4 %) ble tatt ut på grunn av smerte ved generatorlommen."
    )
    surv = pub.cells("implant_survival_summary").set_index("kind")
    assert surv.at[1, "survival"] == "51,4\u00a0%" and surv.at[2, "survival"] == "25,7\u00a0%"  # 18/35, 9/35
    assert pub.sentence("implant_survival_summary").data == (
        f"Av 7 systemer implantert til og med 31.12.2024 var {surv.at[1, 'survival']} (95\u00a0% KI "
        f"{surv.at[1, 'survival_ci']}) uten uplanlagt eksplantasjon ett år etter implantasjonen og "
        f"{surv.at[2, 'survival']} (95\u00a0% KI {surv.at[2, 'survival_ci']}) etter to år. Et batteribytte regnes ikke "
        "som eksplantasjon av systemet (@tbl-implantat-overlevelse, @fig-implantat-overlevelse)."
    )
    hidden = _pub(tables, 5)
    assert (
        "For infeksjon og smerte ved generatorlommen er tallene for små" in hidden.sentence("explants_by_reason").data
    )
    assert hidden.sentence("implant_survival_summary").data.startswith(
        "For et lite eller skjult antall systemer implantert til og med 31.12.2024 er tallene for små"
    )


def test_no_serial_lot_or_patient_in_any_published_piece(tables, tmp_path):
    """The statistics, cells, tables, sentences, figure and workbook hold no serial number, lot or patient id."""
    import re

    from opr_analysis.safety.privacy import file_text

    pub = _pub(tables, 1)
    names = ["implanted_per_year", "explants_by_reason", "implant_survival_summary"]
    texts = [frame.to_csv() for frame in tables.values()]
    texts += [pub.table(n).as_raw_html() for n in names] + [pub.sentence(n).data for n in names]
    texts.append(implant_survival_figure(tables["implant_survival"], 1).data.to_csv())
    book = write_workbook(tables, tmp_path / "tabeller.xlsx", min_cell=1)
    texts.append(file_text(book))
    secrets = (
        {r["serial_number"] for r in IMPLANTS} | {r["lot"] for r in IMPLANTS} | {r["patient_id"] for r in IMPLANTS}
    )
    tokens = set(re.findall(r"[\w-]+", "\n".join(texts)))
    assert not tokens & secrets


def test_a_serial_or_lot_in_an_output_stops_it(tmp_path):
    """The report's and the deliveries' privacy scan looks for the extract's serial numbers and lots."""
    from opr_analysis.errors import IdentifiableDataError
    from opr_analysis.implants.identifiers import device_identifiers
    from opr_analysis.safety.privacy import scan_outputs

    reg = make_extract(tmp_path / "x", treatments=IMPLANT_TREATMENTS, implants=IMPLANTS)
    devices = device_identifiers(reg)
    assert {"S001", "LOT001"} <= devices
    out = tmp_path / "out"
    out.mkdir()
    (out / "tabell.csv").write_text("year,n\n2024,12\n", encoding="utf-8")
    scan_outputs(out, devices)  # clean
    (out / "notat.html").write_text("<p>Enheten LOT003 er tilbakekalt</p>", encoding="utf-8")
    with pytest.raises(IdentifiableDataError, match="notat.html"):
        scan_outputs(out, devices)
