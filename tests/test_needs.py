"""A command reads only the tables its statistics declare (extract/needs.py, issue 29): every declaration is
complete (the statistic computed on the tables it declares equals the statistic on the whole extract), a
table that was not read cannot be mistaken for an empty one, and the summary says what was read."""

from __future__ import annotations

import pandas as pd
import pytest

from opr_analysis.cli import main
from opr_analysis.extract import codebook, needs
from opr_analysis.extract.reader import load_extract
from opr_analysis.indicators.compute import indicator_rows
from opr_analysis.indicators.definitions import load_definitions
from opr_analysis.indicators.output import tables_read as indicator_tables
from opr_analysis.indicators.statistics import STATISTICS
from opr_analysis.stats import export, followup_audit
from opr_analysis.stats.table_registry import TABLES

AS_OF = "2025-12-31"


@pytest.fixture(scope="module")
def extract(tmp_path_factory):
    """Three units, questionnaire answers: every table a statistic may read has rows."""
    folder = tmp_path_factory.mktemp("needs") / "uttrekk"
    assert main(["synth", "--out", str(folder), "--scale", "0.03", "--units", "3", "--years", "2020-2025"]) == 0
    return folder


@pytest.fixture(scope="module")
def whole(extract):
    return load_extract(extract, cache=False)


def _partial(extract, tables):
    reg = load_extract(extract, tables, cache=False)
    assert reg.report.not_read, "a declaration that reads everything tests nothing"
    return reg


def test_closure_follows_references_and_the_readers_own_rules():
    cb = codebook.load()
    own = lambda names: needs.closure(cb, names, always=False)  # noqa: E731
    assert own(["legacy_v1"]) == ("legacy_v1",)
    assert own(["referrals"]) == ("units", "referrals")
    assert own(["baseline_answers"]) == ("units", "patients", "baseline_responses", "baseline_answers")
    # a follow-up's anchor is a treatment or an enrolment (reader rule, not a codebook reference)
    assert set(own(["followups"])) == {"units", "patients", "enrolments", "treatments", "followups"}
    assert needs.closure(cb, None) == tuple(cb.tables)
    with pytest.raises(ValueError, match="ukjent|unknown"):
        needs.closure(cb, ["referals"])


def test_every_command_reads_the_patients_requests():
    """Erasure and reservations (issue 26) hold for a command that reads one table too."""
    cb = codebook.load()
    assert set(needs.closure(cb, ["legacy_v1"])) == {"legacy_v1", "rights_requests", "patients"}
    assert "rights_requests" in needs.closure(cb, ["referrals"])


def test_always_read_tables_join_every_closure_but_not_a_tables_own(monkeypatch):
    cb = codebook.load()
    monkeypatch.setattr(needs, "ALWAYS", ("allocations",))
    assert needs.closure(cb, ["legacy_v1"]) == ("patients", "legacy_v1", "allocations")
    assert needs.closure(cb, ["legacy_v1"], always=False) == ("legacy_v1",)


def test_a_statistic_without_a_declaration_is_refused():
    def undeclared(reg): ...

    with pytest.raises(ValueError, match="does not declare"):
        needs.tables_read_by(undeclared)


@pytest.mark.parametrize("table", [t.name for t in TABLES], ids=str)
def test_every_published_table_computes_the_same_from_the_tables_it_declares(extract, whole, table):
    declared = export.tables_read([table])
    part = _partial(extract, declared)
    full = export.compute_tables(whole, pd.Timestamp(AS_OF), [table])[table]
    got = export.compute_tables(part, pd.Timestamp(AS_OF), [table])[table]
    pd.testing.assert_frame_equal(full, got, check_exact=True)


def test_the_follow_up_audit_and_every_indicator_compute_the_same_from_their_tables(extract, whole):
    part = _partial(extract, needs.tables_read_by(followup_audit))
    pd.testing.assert_frame_equal(followup_audit(whole, AS_OF), followup_audit(part, AS_OF), check_exact=True)
    for ind in load_definitions().values():
        part = _partial(extract, needs.tables_read_by(STATISTICS[ind.statistic]))
        full, got = indicator_rows(whole, ind, AS_OF), indicator_rows(part, ind, AS_OF)
        pd.testing.assert_frame_equal(full, got, check_exact=True, obj=ind.id)


def test_a_table_that_was_not_read_is_not_an_empty_table(extract):
    from opr_analysis.stats import referrals_assessed

    reg = load_extract(extract, ["legacy_v1"], cache=False)
    # and the patients' requests with the patients they name, which every command reads (erasure, issue 26)
    assert set(reg.tables) == {"legacy_v1", "rights_requests", "patients"} and "referrals" in reg.report.not_read
    for ask in (lambda: reg.referrals, lambda: reg["referrals"], lambda: reg.tables.get("referrals")):
        with pytest.raises(needs.TableNotRead, match="referrals"):
            ask()
    with pytest.raises(needs.TableNotRead):
        referrals_assessed(reg)
    with pytest.raises(needs.TableNotRead):  # also after the tables are copied (units.for_unit does)
        _ = type(reg)(reg.path, dict(reg.tables), reg.report).short_forms


def test_the_commands_read_what_their_statistics_declare():
    assert export.tables_read() >= {"referrals", "enrolments", "baseline_responses", "short_forms", "legacy_v1"}
    assert not export.tables_read() & {"baseline_answers", "followup_answers", "allocations"}
    assert needs.tables_read_by(followup_audit) == {"followups", "treatments", "enrolments", "patients"}
    assert indicator_tables() >= {"baseline_answers", "followup_answers", "units"}
    assert "referrals" not in indicator_tables()


def test_the_summary_says_which_tables_were_read(extract, capsys, tmp_path):
    assert main(["followups", str(extract), "--out", str(tmp_path / "f.csv"), "--as-of", AS_OF, "--no-cache"]) == 0
    err = capsys.readouterr().err
    lines = {line.split()[0]: line for line in err.splitlines() if line and line.split()[0] in codebook.load().tables}
    for table in ("referrals", "baseline_responses", "short_forms", "legacy_v1", "baseline_answers"):
        assert "ikke lest" in lines[table], table
    for table in ("patients", "enrolments", "treatments", "followups", "units", "rights_requests"):
        assert "ikke lest" not in lines[table] and lines[table].split()[2].replace("\u00a0", "").isdigit(), table
    not_read = {t for t, line in lines.items() if "ikke lest" in line}
    assert not_read == {"referrals", "baseline_responses", "short_forms", "legacy_v1", "baseline_answers",
                        "followup_answers", "implants"}  # fmt: skip
    assert f"{len(not_read)} tabeller ble ikke lest" in err and "«opr validate» kontrollerer hele uttrekket" in err
    assert main(["validate", str(extract), "--no-cache"]) == 0
    assert "ikke lest" not in capsys.readouterr().out


def test_counts_leave_out_the_tables_that_were_not_read(extract, whole):
    part = load_extract(extract, ["followups"], cache=False)
    counts = part.report.counts()
    assert set(counts["table"]) == {"units", "patients", "enrolments", "treatments", "followups", "rights_requests"}
    assert part.report.rows_read == sum(whole.report.summaries[t].rows_read for t in counts["table"])
    for name in counts["table"]:
        assert part.report.summaries[name] == whole.report.summaries[name]
        pd.testing.assert_frame_equal(part.tables[name], whole.tables[name], check_exact=True)
