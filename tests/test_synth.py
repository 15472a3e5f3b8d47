"""Tests of the synthetic registry generator (opr_analysis.synth.registry)."""

from __future__ import annotations

import argparse
import hashlib
import re

import pandas as pd
import pytest

from opr_analysis.commands import synth as synth_cmd
from opr_analysis.errors import UsageError
from opr_analysis.extract import codebook
from opr_analysis.extract.reader import load_extract
from opr_analysis.synth.registry import synthesize, write_synthetic, write_tables

SMALL = dict(scale=0.2, years=(2020, 2025))
REQUIRED = ["patients", "referrals", "enrolments", "baseline_responses", "short_forms", "treatments", "followups"]


@pytest.fixture(scope="module")
def small():
    return synthesize(seed=7, **SMALL)


@pytest.fixture(scope="module")
def full():
    """The default extract (scale 1, 2020-2025) for calibration checks."""
    return synthesize()


def _digests(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


# ------------------------------------------------------------------ determinism


@pytest.mark.parametrize("fmt", ["csv", "parquet", "xlsx"])
def test_same_arguments_give_same_bytes(tmp_path, fmt):
    gens = [] if fmt == "xlsx" else None  # the answer tables make xlsx slow; csv/parquet cover them
    a = write_synthetic(tmp_path / "a", seed=11, scale=0.1, years=(2021, 2023), fmt=fmt, generators=gens)
    b = write_synthetic(tmp_path / "b", seed=11, scale=0.1, years=(2021, 2023), fmt=fmt, generators=gens)
    assert _digests(a) == _digests(b)
    assert set(_digests(a)) >= {f"{t}.{fmt}" for t in REQUIRED + ["legacy_v1"]}


def test_different_seed_gives_different_extract(tmp_path):
    a = write_synthetic(tmp_path / "a", seed=1, scale=0.1, years=(2021, 2023))
    b = write_synthetic(tmp_path / "b", seed=2, scale=0.1, years=(2021, 2023))
    da, db = _digests(a), _digests(b)
    assert da["referrals.csv"] != db["referrals.csv"]
    assert da["followups.csv"] != db["followups.csv"]


# ------------------------------------------------------------------ format and contract


def test_csv_columns_follow_codebook_order_and_text_forms(tmp_path):
    out = write_synthetic(tmp_path / "x", seed=3, scale=0.1, years=(2021, 2023))
    cb = codebook.load()
    for table in REQUIRED + ["legacy_v1"]:
        text = (out / f"{table}.csv").read_text(encoding="utf-8")
        assert not text.startswith("\ufeff") and "\r" not in text
        df = pd.read_csv(out / f"{table}.csv", dtype=str, keep_default_na=False)
        # optional extension columns (followups.variant: only with --experiment; unit_id: only with
        # --units N > 1, contract v1.1) may be left out
        expected = [c for c, col in cb.tables[table].columns.items() if not col.extension or c in df.columns]
        assert list(df.columns) == expected, table
        for name, col in cb.tables[table].columns.items():
            if name not in df.columns:
                continue
            values = df[name][df[name] != ""]
            pattern = {
                "date": r"\d{4}-\d{2}-\d{2}",
                "datetime": r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}",
                "bool": r"true|false",
                "int": r"-?\d+",
            }.get(col.type)
            if pattern:
                assert values.str.fullmatch(pattern).all(), (table, name)


def test_parquet_round_trips_typed_columns(tmp_path):
    out = write_synthetic(tmp_path / "p", seed=3, scale=0.1, years=(2021, 2023), fmt="parquet")
    reg = synthesize(seed=3, scale=0.1, years=(2021, 2023))
    fu = pd.read_parquet(out / "followups.parquet")
    assert list(fu.columns) == list(reg.tables["followups"].columns)
    assert len(fu) == len(reg.tables["followups"])
    assert fu["responded_at"].notna().sum() == reg.tables["followups"]["responded_at"].notna().sum()
    pat = pd.read_parquet(out / "patients.parquet")
    assert pat["interpreter_needed"].sum() == reg.tables["patients"]["interpreter_needed"].sum()


@pytest.mark.parametrize("fmt", ["csv", "parquet", "xlsx"])
def test_extract_passes_the_reader_without_quarantine(tmp_path, fmt):
    reg = synthesize(seed=12, scale=0.1, years=(2020, 2025), generators=[] if fmt == "xlsx" else None)
    out = write_tables(reg.tables, tmp_path / "x", fmt)
    loaded = load_extract(out)
    assert loaded.report.problems == []
    for name, df in reg.tables.items():
        summary = loaded.report.summaries[name]
        # rows of patients erased at their own request (rights_requests, contract v1.2) are read, not used
        assert (summary.rows_read, summary.rows_used + summary.rows_erased) == (len(df), len(df)), name


def test_no_blanks_in_required_columns_and_ids_unique(small):
    cb = codebook.load()
    for name, df in small.tables.items():
        table = cb.tables[name]
        for col_name, col in table.columns.items():
            if not col.optional:
                assert df[col_name].notna().all(), (name, col_name)
        if table.id_column:
            assert df[table.id_column].is_unique, name


def test_codes_are_exactly_the_codebooks(small):
    cb = codebook.load()
    for name, df in small.tables.items():
        for col_name, col in cb.tables[name].columns.items():
            if col.type == "code" and col_name in df:  # an extension column may be absent
                used = set(df[col_name].dropna())
                assert used <= set(col.codes), (name, col_name, used - set(col.codes))
                # blank only where the codebook lists a blank label
                assert df[col_name].notna().all() or col.optional


def test_references_are_valid(small):
    cb = codebook.load()
    t = small.tables
    for name, df in t.items():
        for col_name, col in cb.tables[name].columns.items():
            if col.references and col_name in df:  # v1.1 unit_id is absent from a one-unit extract
                target = t[col.reference_table][col.reference_column]
                assert df[col_name].isin(target).all(), (name, col_name)
    fu = t["followups"]
    rf_scs = fu["kind"] != "avsluttet_12m"
    kinds = t["treatments"].set_index("treatment_id")["kind"]
    assert (fu.loc[rf_scs, "kind"].str.split("_").str[0] == kinds.reindex(fu.loc[rf_scs, "anchor_id"]).to_numpy()).all()
    closed = t["enrolments"].set_index("enrolment_id")["closed_date"]
    assert closed.reindex(fu.loc[~rf_scs, "anchor_id"]).notna().all()
    # follow-ups go to the anchor's own patient
    owner = pd.concat(
        [
            t["treatments"].set_index("treatment_id")["patient_id"],
            t["enrolments"].set_index("enrolment_id")["patient_id"],
        ]
    )
    assert (owner.reindex(fu["anchor_id"]).to_numpy() == fu["patient_id"].to_numpy()).all()
    # referrals of rejected patients need not exist in patients, and some do not
    assert not t["referrals"]["patient_id"].isin(t["patients"]["patient_id"]).all()


def test_ids_have_letter_prefixes_and_no_cell_has_eleven_digits(tmp_path):
    out = write_synthetic(tmp_path / "x", seed=5, scale=0.3, years=(2020, 2025))
    prefixes = {
        "patients": "P",
        "referrals": "R",
        "enrolments": "E",
        "baseline_responses": "B",
        "short_forms": "S",
        "treatments": "T",
        "followups": "F",
    }
    eleven = re.compile(r"\d{11}")
    for path in out.iterdir():
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
        table = path.stem
        if table in prefixes:
            assert df.iloc[:, 0].str.fullmatch(prefixes[table] + r"\d{7}").all()
        for col in df.columns:
            assert not df[col].str.contains(eleven).any(), (table, col)


def test_dates_are_in_order_and_within_the_extract(small):
    t = small.tables
    end = small.extract_end
    e = t["enrolments"]
    assert (e["first_consultation_date"].dropna() > e.loc[e["first_consultation_date"].notna(), "granted_date"]).all()
    has_closed = e["closed_date"].notna()
    assert (e.loc[has_closed, "closed_date"] > e.loc[has_closed, "first_consultation_date"]).all()
    for name, df in t.items():
        for col in df.columns:
            if pd.api.types.is_datetime64_any_dtype(df[col]):
                assert (df[col].dropna() <= end + pd.Timedelta(days=1)).all(), (name, col)
    b = t["baseline_responses"]
    assert (b["submitted_at"] >= pd.Timestamp("2020-12-01")).all()
    tr = t["treatments"].merge(e.groupby("patient_id")["first_consultation_date"].min(), on="patient_id")
    assert (tr["date"] > tr["first_consultation_date"]).all()
    fu = t["followups"]
    answered = fu["responded_at"].notna()
    assert (fu.loc[answered, "responded_at"] > fu.loc[answered, "sent_date"]).all()


def test_followups_follow_the_contract_rule(small):
    """Recompute what is owed from the written tables alone and compare with the truth."""
    t = small.tables
    due = small.followups_due
    pat = t["patients"].set_index("patient_id")
    p = pat.reindex(due["patient_id"])
    excluded = (
        p["interpreter_needed"].fillna(False).to_numpy()
        | p["cognitive_impairment"].fillna(False).to_numpy()
        | p["research_participant"].fillna(False).to_numpy()
        | (p["reserved_date"].to_numpy() <= due["due"].to_numpy())
        | (due["due"].dt.year.to_numpy() - p["birth_year"].to_numpy(dtype=int) < 18)
    )
    assert (due["owed"].to_numpy() == ~excluded).all()
    tr = t["treatments"].set_index("treatment_id")
    rf = due[due["kind"] == "rf_6m"]
    expected = (tr.loc[rf["anchor_id"], "date"] + pd.DateOffset(months=6)).to_numpy()
    assert (rf["due"].to_numpy() == expected).all()
    assert (tr.loc[due.loc[due["kind"] != "avsluttet_12m", "anchor_id"], "date"] >= pd.Timestamp("2021-06-01")).all()
    # every sent row matches a due follow-up; sent dates are on or after the due date
    fu = t["followups"].merge(due[["anchor_id", "kind", "due"]], on=["anchor_id", "kind"], how="left")
    assert fu["due"].notna().all()
    assert (fu["sent_date"] >= fu["due"]).all()


# ------------------------------------------------------------------ calibration (scale 1)


def test_calibration_of_the_default_extract(full):
    t = full.tables
    r = t["referrals"]
    assessed = r[r["decision"].isin(["rett", "avvist", "videresendt"])]
    year = assessed["assessed_date"].dt.year
    per_year = assessed.groupby(year).size()
    assert per_year.between(2000, 2400).all(), per_year
    rejected = (assessed["decision"] == "avvist").groupby(year).mean()
    assert rejected.between(0.28, 0.48).all(), rejected
    assert rejected.loc[2023] > rejected.loc[2021] + 0.08
    assert r["decision"].isin(["apen_retur", "foresporsel"]).any()
    region = assessed[assessed["decision"] == "rett"]["region"]
    shares = region[region.isin(["lokal", "regional", "nasjonal"])].value_counts(normalize=True)
    assert 0.35 < shares["lokal"] < 0.45 and 0.47 < shares["regional"] < 0.57

    p = t["patients"]
    assert 0.55 < (p["sex"] == "K").mean() < 0.65
    for flag, share in [("interpreter_needed", 0.04), ("cognitive_impairment", 0.02), ("research_participant", 0.05)]:
        assert share / 2 < p[flag].mean() < share * 1.5, flag
        assert 0 < p[flag].isna().sum() < 0.01 * len(p), flag  # a few unknown (blank) flags
    age = p["birth_year"].rsub(2025)
    assert (age < 18).any() and 0.8 < age.between(20, 90).mean()

    e = t["enrolments"]
    enrol_year = e.groupby(e["granted_date"].dt.year).size()
    assert enrol_year.between(950, 1300).all(), enrol_year
    assert e["patient_id"].duplicated().any()
    assert (e["closed_date"].isna() & e["dips_closed_date"].notna()).sum() > 10
    assert 0.05 < e["diagnosis"].isna().mean() < 0.15

    b = t["baseline_responses"]
    assert b["patient_id"].duplicated().any()
    by_year = b.groupby(b["submitted_at"].dt.year)
    assert by_year.size().loc[2020] < 150
    assert by_year.size().loc[2021:].between(650, 1150).all()
    median_min = by_year["duration_ms"].median() / 60000
    assert median_min.loc[2021:].between(25, 37).all(), median_min
    assert b["duration_ms"].min() >= 400_000 and b["duration_ms"].max() > 3 * 3600_000

    sf = t["short_forms"]
    assert sf.groupby(sf["date"].dt.year).size().loc[2021:].between(8, 70).all()

    fu = t["followups"]
    share = fu["responded_at"].notna().mean()
    assert 0.25 <= share <= 0.45, share
    due = full.followups_due
    assert ((due["owed"]) & (due["sent"] == 0)).sum() > 10  # owed but not sent
    assert ((~due["owed"]) & (due["sent"] > 0)).sum() > 10  # sent but not owed
    assert (due["sent"] > 1).sum() > 3  # duplicate sends


def test_followup_response_depends_on_age_and_severity(full):
    t = full.tables
    fu = t["followups"].merge(t["patients"][["patient_id", "birth_year"]], on="patient_id")
    fu = fu.merge(full.latent[["patient_id", "severity"]], on="patient_id")
    answered = fu["responded_at"].notna()
    age = fu["sent_date"].dt.year - fu["birth_year"]
    assert answered[age >= 60].mean() > answered[age < 40].mean() + 0.05
    assert answered[fu["severity"] > 0.5].mean() < answered[fu["severity"] < -0.5].mean() - 0.05


def test_row_counts_scale_roughly_linearly():
    a = synthesize(seed=9, scale=0.2, years=(2021, 2024))
    b = synthesize(seed=9, scale=0.8, years=(2021, 2024))
    for name in ["referrals", "enrolments", "baseline_responses", "followups"]:
        ratio = len(b.tables[name]) / len(a.tables[name])
        assert 3.3 < ratio < 4.8, (name, ratio)


# ------------------------------------------------------------------ hook, writing, CLI


def test_extra_generators_add_tables_with_their_own_stream():
    seen = {}

    def answers(reg, rng):
        seen["severity"] = reg.latent["severity"].to_numpy()
        ids = reg.tables["baseline_responses"]["response_id"]
        return {
            "baseline_answers": pd.DataFrame(
                {"response_id": ids, "item": "nrs_avg", "value": rng.integers(0, 11, len(ids)).astype(float)}
            )
        }

    plain = synthesize(seed=4, scale=0.1, years=(2022, 2022), generators=[])
    extended = synthesize(seed=4, scale=0.1, years=(2022, 2022), generators=[answers])
    assert "baseline_answers" in extended.tables and "baseline_answers" not in plain.tables
    assert len(extended.tables["baseline_answers"]) == len(plain.tables["baseline_responses"])
    pd.testing.assert_frame_equal(plain.tables["followups"], extended.tables["followups"])
    assert len(seen["severity"]) == len(plain.tables["patients"])


def test_write_replaces_only_a_folder_of_table_files(tmp_path):
    out = tmp_path / "x"
    write_synthetic(out, seed=1, scale=0.05, years=(2023, 2023))
    first = _digests(out)
    write_synthetic(out, seed=2, scale=0.05, years=(2023, 2023))
    assert _digests(out) != first
    assert [p.name for p in tmp_path.iterdir()] == ["x"]  # no temp folders left behind
    (out / "notes.txt").write_text("mine")
    with pytest.raises(UsageError):
        write_synthetic(out, seed=3, scale=0.05, years=(2023, 2023))
    assert (out / "notes.txt").exists()
    with pytest.raises(UsageError):
        write_tables({}, tmp_path / "y", fmt="sav")


def test_synthesize_rejects_bad_arguments():
    with pytest.raises(UsageError):
        synthesize(scale=0)
    with pytest.raises(UsageError):
        synthesize(years=(2025, 2020))


def _cli(argv):
    parser = argparse.ArgumentParser(prog="opr")
    synth_cmd.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.func(args)


def test_cli_writes_the_extract(tmp_path, capsys):
    assert _cli(["synth", "--out", str(tmp_path / "o"), "--scale", "0.05", "--years", "2022-2023", "--seed", "8"]) == 0
    assert "Skrev syntetisk uttrekk" in capsys.readouterr().out
    ref = pd.read_csv(tmp_path / "o" / "referrals.csv", dtype=str)
    assert set(pd.to_datetime(ref["assessed_date"]).dt.year) == {2022, 2023}
    assert _digests(tmp_path / "o") == _digests(write_synthetic(tmp_path / "p", seed=8, scale=0.05, years=(2022, 2023)))


@pytest.mark.parametrize("argv", [["--years", "2025-2020"], ["--scale", "-1"], ["--format", "sav"], ["--years", "20"]])
def test_cli_rejects_bad_options(tmp_path, argv):
    with pytest.raises(SystemExit) as exc:
        _cli(["synth", "--out", str(tmp_path / "o"), *argv])
    assert exc.value.code == 2


def test_registered_generators_run_by_default(monkeypatch):
    from opr_analysis.synth import registry as synth

    def extra(reg, rng):
        return {"extra_table": pd.DataFrame({"n": [len(reg.tables["patients"])]})}

    monkeypatch.setattr(synth, "GENERATORS", [extra])
    reg = synthesize(seed=4, scale=0.05, years=(2022, 2022))
    assert reg.tables["extra_table"]["n"].iloc[0] == len(reg.tables["patients"])


def test_csv_quotes_only_when_a_cell_needs_it(tmp_path):
    df = pd.DataFrame({"response_id": ["B0000001", "B0000002"], "note": ["a, b", 'sa "hei"']})
    write_tables({"notes": df}, tmp_path / "x")
    assert (
        tmp_path / "x" / "notes.csv"
    ).read_text() == 'response_id,note\n"B0000001","a, b"\n"B0000002","sa ""hei"""\n'
    back = pd.read_csv(tmp_path / "x" / "notes.csv", dtype=str)
    pd.testing.assert_frame_equal(back, df, check_dtype=False)


def test_norsk_dialect_is_the_registry_export_shape_and_reads_the_same(tmp_path, capsys):
    """``--dialect norsk``: BOM, ``;``, CRLF, 31.12.2023 / 31.12.2023 14:05:09, ja/nei, decimal comma;
    the reader gives exactly the tables and summary of the ISO extract."""
    args = ["--scale", "0.05", "--years", "2022-2023", "--seed", "8"]
    assert _cli(["synth", "--out", str(tmp_path / "n"), "--dialect", "norsk", *args]) == 0
    capsys.readouterr()
    iso = write_synthetic(tmp_path / "i", seed=8, scale=0.05, years=(2022, 2023))
    raw = (tmp_path / "n" / "baseline_responses.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfresponse_id;patient_id;submitted_at;duration_ms\r\n")
    assert b"\n" not in raw.replace(b"\r\n", b"")
    first = raw.decode("utf-8-sig").split("\r\n")[1].split(";")
    assert re.fullmatch(r"[0-3][0-9]\.[01][0-9]\.202[23] [0-2][0-9]:[0-5][0-9]:[0-5][0-9]", first[2])
    flags = pd.read_csv(tmp_path / "n" / "patients.csv", sep=";", dtype=str, encoding="utf-8-sig")
    assert set(flags["interpreter_needed"].dropna()) == {"ja", "nei"}
    answers = pd.read_csv(tmp_path / "n" / "baseline_answers.csv", sep=";", dtype=str, encoding="utf-8-sig")
    assert not answers["value"].str.contains(".", regex=False).any()
    a, b = load_extract(iso), load_extract(tmp_path / "n")
    assert a.report.summary_text() == b.report.summary_text()
    for name in a.tables:
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name])


def test_unknown_dialect_is_refused(tmp_path):
    with pytest.raises(UsageError, match="dialekt"):
        write_tables({"notes": pd.DataFrame({"a": [1]})}, tmp_path / "x", dialect="excel")
