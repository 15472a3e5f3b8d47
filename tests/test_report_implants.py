"""The implant chapter's pieces: cells (exact), suppression audit, figure data, prose, and no identifier anywhere."""

from __future__ import annotations

import pandas as pd
import pytest
from helpers import IMPLANT_TREATMENTS, IMPLANTS, make_extract

from opr_analysis.report import prose
from opr_analysis.report.implant_figures import implant_survival_figure, survival_figure_data
from opr_analysis.report.implant_tables import (
    explants_by_reason_cells,
    explants_by_reason_table,
    implant_survival_cells,
    implant_survival_table,
    implanted_per_year_cells,
    implanted_per_year_table,
)
from opr_analysis.report.suppression import recorded_tables, recoverable_cells
from opr_analysis.stats.export import compute_tables

AS_OF = pd.Timestamp("2024-12-31")
NAMES = ["implanted_per_year", "explants_by_reason", "implant_survival", "implant_survival_summary"]


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    reg = make_extract(tmp_path_factory.mktemp("imp"), treatments=IMPLANT_TREATMENTS, implants=IMPLANTS)
    return compute_tables(reg, AS_OF, NAMES)


def test_implanted_cells_are_the_counts(tables):
    cells = implanted_per_year_cells(tables["implanted_per_year"], [2022, 2023, 2024])
    assert cells[["component", "2022", "2023", "2024"]].values.tolist() == [
        ["generator", "7", "0", "1"],
        ["elektrode", "1", "0", "1"],
        ["annet", "1", "0", "0"],
        ["totalt", "9", "0", "2"],
    ]


def test_explant_cells_are_suppressed_and_audited(tables):
    with recorded_tables() as recorded:
        cells = explants_by_reason_cells(tables["explants_by_reason"], [2022, 2023, 2024], min_cell=5)
    assert recorded and all(recoverable_cells(t) == [] for t in recorded)
    row = cells.set_index("reason")
    # every count here is 1–4: hidden; zeros are shown; shares of hidden counts are hidden
    assert row.loc["infeksjon", ["2022", "2023", "alle", "share"]].tolist() == ["×", "0", "×", "–"]
    assert row.loc["totalt", ["2022", "2023", "2024", "alle"]].tolist() == ["×", "×", "×", "×"]
    open_cells = explants_by_reason_cells(tables["explants_by_reason"], [2022, 2023, 2024], min_cell=1)
    row = open_cells.set_index("reason")
    assert row.loc["infeksjon", ["2022", "alle", "share"]].tolist() == ["1", "2", "28,6\u00a0%"]
    assert row.loc["totalt", ["2022", "2023", "2024", "alle"]].tolist() == ["3", "2", "1", "7"]  # 2025 is in «alle»
    assert row.loc["infeksjon", "share_ci"] == "8,2–64,1\u00a0%"


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


def test_figure_stops_where_few_are_followed(tables):
    curve = tables["implant_survival"]
    assert survival_figure_data(curve, min_cell=2)["month"].max() == 16  # 2 followed beyond day 486; 1 beyond 487
    assert implant_survival_figure(curve, min_cell=2) is not None
    assert implant_survival_figure(curve, min_cell=8) is None  # fewer than 8 systems in all


def test_prose_from_the_cells(tables):
    imp = implanted_per_year_cells(tables["implanted_per_year"], [2022, 2023, 2024])
    ex = explants_by_reason_cells(tables["explants_by_reason"], [2022, 2023, 2024], min_cell=1)
    assert prose.implants_paragraph(imp, ex, 2022) == (
        "I 2022 ble det satt inn 9 komponenter: 7 generatorer, 1 elektrode og 1 annen komponent "
        "(@tbl-implantater). 3 komponenter ble tatt ut samme år (@tbl-eksplantasjoner)."
    )
    assert prose.explant_share_sentence(ex).replace("\u00a0", " ") == (
        "Over hele perioden ble 7 komponenter tatt ut. 28,6 % av dem (95 % KI 8,2–64,1 %) ble tatt ut på grunn av "
        "infeksjon, og 14,3 % av dem (95 % KI 2,6–51,3 %) ble tatt ut på grunn av smerte ved generatorlommen."
    )
    hidden = explants_by_reason_cells(tables["explants_by_reason"], [2022, 2023, 2024], min_cell=5)
    assert "for smerte ved generatorlommen er tallet for lite" in prose.explant_share_sentence(hidden)
    assert "et lite eller skjult antall komponenter" in prose.explant_share_sentence(hidden)
    surv = implant_survival_cells(tables["implant_survival_summary"], min_cell=1)
    one, two = surv.to_dict("records")
    assert one["survival"] == "51,4\u00a0%" and two["survival"] == "25,7\u00a0%"  # 18/35 and 9/35
    assert prose.implant_survival_sentence(surv) == (
        f"Av 7 implanterte systemer var {one['survival']} (95\u00a0% KI {one['survival_ci']}) uten uplanlagt "
        f"eksplantasjon ett år etter implantasjonen og {two['survival']} (95\u00a0% KI {two['survival_ci']}) etter to "
        "år. Et batteribytte regnes ikke som eksplantasjon av systemet (@tbl-implantat-overlevelse, "
        "@fig-implantat-overlevelse)."
    )
    assert prose.implant_survival_sentence(implant_survival_cells(tables["implant_survival_summary"], 5)).startswith(
        "For et lite eller skjult antall implanterte systemer er tallene for små"
    )


def test_no_serial_lot_or_patient_in_any_published_piece(tables):
    """The statistics, cells, tables, prose and figure hold no serial number, lot or patient id."""
    imp = implanted_per_year_cells(tables["implanted_per_year"], [2022, 2023, 2024])
    ex = explants_by_reason_cells(tables["explants_by_reason"], [2022, 2023, 2024], min_cell=1)
    surv = implant_survival_cells(tables["implant_survival_summary"], min_cell=1)
    texts = [frame.to_csv() for frame in tables.values()]
    texts += [
        implanted_per_year_table(tables["implanted_per_year"], [2022, 2023, 2024]).as_raw_html(),
        explants_by_reason_table(tables["explants_by_reason"], [2022, 2023, 2024], 1).as_raw_html(),
        implant_survival_table(tables["implant_survival_summary"], 1).as_raw_html(),
        prose.implants_paragraph(imp, ex, 2022),
        prose.explant_share_sentence(ex),
        prose.implant_survival_sentence(surv),
        implant_survival_figure(tables["implant_survival"], 1).data.to_csv(),
    ]
    secrets = (
        {r["serial_number"] for r in IMPLANTS} | {r["lot"] for r in IMPLANTS} | {r["patient_id"] for r in IMPLANTS}
    )
    import re

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
