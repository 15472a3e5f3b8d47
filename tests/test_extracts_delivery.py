"""End-to-end deliveries from a tiny hand-made extract."""

import json
import os
import re
import stat
import time
import zipfile

import pandas as pd
import pyarrow.parquet as pq
import pyreadstat
import pytest
from extracts_helpers import BASE_SPEC, write_extract, write_spec

from opr_analysis.cli import main
from opr_analysis.errors import UsageError
from opr_analysis.extracts import DisclosureError, deliver

ALL = ["csv", "parquet", "sav", "dta", "xlsx"]


@pytest.fixture(scope="module")
def extract(tmp_path_factory):
    return write_extract(tmp_path_factory.mktemp("extract") / "ex")


@pytest.fixture
def keys(tmp_path, monkeypatch):
    for var in list(os.environ):
        if var.startswith("OPR_EXTRACT_KEY"):
            monkeypatch.delenv(var)
    return tmp_path / "keys"


def _files(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_same_spec_twice_gives_identical_bytes(tmp_path, extract, keys):
    spec = write_spec(tmp_path / "s.yaml")
    a = deliver(spec, extract, tmp_path / "a", key_dir=keys, docs=False)
    time.sleep(1.2)  # the .sav/.dta headers and xlsx properties store times to the second
    b = deliver(spec, extract, tmp_path / "b", key_dir=keys, docs=False)
    fa, fb = _files(a.folder), _files(b.folder)
    assert sorted(fa) == sorted(fb) and {f"enrolments.{e}" for e in ALL} <= set(fa)
    assert [n for n in fa if fa[n] != fb[n]] == []
    assert a.manifest_sha256 == b.manifest_sha256
    manifest = json.loads(fa["manifest.json"])
    assert manifest["files"]["enrolments.csv"] == __import__("hashlib").sha256(fa["enrolments.csv"]).hexdigest()
    assert manifest["input"]["patients.csv"]
    log = pd.read_csv(tmp_path / "delivery-log.csv")
    assert log["project"].tolist() == ["test-prosjekt"] * 2 and log["patients"].tolist() == [a.patients] * 2


def test_rows_do_not_depend_on_input_row_order(tmp_path, extract, keys):
    spec = write_spec(tmp_path / "s.yaml", formats=["csv"])
    shuffled = tmp_path / "shuffled"
    shuffled.mkdir()
    for p in extract.iterdir():
        pd.read_csv(p, dtype=str).iloc[::-1].to_csv(shuffled / p.name, index=False)
    a = deliver(spec, extract, tmp_path / "a", key_dir=keys, docs=False)
    b = deliver(spec, shuffled, tmp_path / "b", key_dir=keys, docs=False)
    for name in ("enrolments.csv", "treatments.csv", "followups.csv", "baseline_responses.csv"):
        assert (a.folder / name).read_bytes() == (b.folder / name).read_bytes()


def test_two_projects_give_disjoint_pseudonyms(tmp_path, extract, keys):
    s1 = write_spec(tmp_path / "s1.yaml", formats=["csv"])
    s2 = write_spec(tmp_path / "s2.yaml", formats=["csv"], project="annet-prosjekt")
    a = pd.read_csv(deliver(s1, extract, tmp_path / "a", key_dir=keys, docs=False).folder / "enrolments.csv")
    b = pd.read_csv(deliver(s2, extract, tmp_path / "b", key_dir=keys, docs=False).folder / "enrolments.csv")
    assert a["pid"].nunique() == b["pid"].nunique() == 60
    assert set(a["pid"]).isdisjoint(set(b["pid"]))
    assert sorted((keys).iterdir()) == [keys / "annet-prosjekt.key", keys / "test-prosjekt.key"]
    for key in keys.iterdir():
        assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_environment_key_overrides_store_and_never_leaks(tmp_path, extract, keys, monkeypatch):
    secret = "hemmelig-nokkel-" + "x" * 40
    monkeypatch.setenv("OPR_EXTRACT_KEY_TEST_PROSJEKT", secret)
    spec = write_spec(tmp_path / "s.yaml")
    d = deliver(spec, extract, tmp_path / "a", key_dir=keys, docs=False)
    assert not keys.exists()
    blob = _all_text(d.folder) + (tmp_path / "delivery-log.csv").read_bytes()
    assert secret.encode() not in blob
    assert b"OPR_EXTRACT_KEY_TEST_PROSJEKT" in (d.folder / "manifest.json").read_bytes()


def _all_text(folder):
    """Every delivered byte, with xlsx members unzipped and parquet read back as text."""
    out = b""
    for p in sorted(folder.iterdir()):
        out += p.read_bytes()
        if p.suffix == ".xlsx":
            with zipfile.ZipFile(p) as z:
                out += b"".join(z.read(n) for n in z.namelist())
        if p.suffix == ".parquet":
            out += pq.read_table(p).to_pandas().to_csv().encode()
    return out


def test_no_original_id_or_birth_year_in_any_file(tmp_path, extract, keys):
    spec = write_spec(tmp_path / "s.yaml", dates="full")
    d = deliver(spec, extract, tmp_path / "a", key_dir=keys, docs=False)
    blob = _all_text(d.folder)
    for prefix in (b"PAS-", b"INN-", b"HEN-", b"SVAR-", b"BEH-", b"OPP-", b"KORT-"):
        assert prefix not in blob
    patients = pd.read_csv(extract / "patients.csv")
    for name in ("enrolments", "treatments", "followups", "baseline_responses"):
        cols = pd.read_csv(d.folder / f"{name}.csv").columns
        assert "birth_year" not in cols and "patient_id" not in cols
    assert "Fødselsår".encode() not in blob
    assert len(patients) == 60


def test_selection_of_nobody_names_the_criterion(tmp_path, extract, keys):
    spec = write_spec(
        tmp_path / "s.yaml",
        inclusion={"sex": ["M"], "treatment_kinds": ["scs"], "enrolment_years": [2021, 2021], "age": {"min": 95}},
    )
    with pytest.raises(UsageError) as exc:
        deliver(spec, extract, tmp_path / "a", key_dir=keys, docs=False)
    assert "ingen igjen etter «alder ved innskriving 95–»" in str(exc.value)
    assert not (tmp_path / "a").exists()


def test_inclusion_criteria_select_the_right_enrolments(tmp_path, extract, keys):
    spec = write_spec(
        tmp_path / "s.yaml",
        formats=["csv"],
        inclusion={"treatment_kinds": ["scs"]},
        variables={"enrolments": ["treated_scs", "patients.sex"]},
        disclosure={"k": 2},
    )
    d = deliver(spec, extract, tmp_path / "a", key_dir=keys, docs=False)
    e = pd.read_csv(d.folder / "enrolments.csv")
    # patients 8, 16, ..., 56 get SCS (i % 8 == 0): 7 patients; 56 has two enrolments, one treated each
    assert len(e) == 8 and e["treated_scs"].eq(1).all()


def test_k_anonymity_refuses_a_unique_combination_then_passes_generalised(tmp_path, extract, keys):
    variables = {"enrolments": ["age_at_enrolment", "patients.sex", "region"]}
    refuse = write_spec(
        tmp_path / "r.yaml", formats=["csv"], variables=variables, disclosure={"k": 3, "on_violation": "refuse"}
    )
    with pytest.raises(DisclosureError) as exc:
        deliver(refuse, extract, tmp_path / "a", key_dir=keys, docs=False)
    msg = str(exc.value)
    assert "færre enn k = 3 pasienter" in msg and "age_at_enrolment" in msg and "PAS-" not in msg
    assert re.search(r"\s1$", msg, re.M)  # a unique combination is listed with its count
    assert not (tmp_path / "a").exists()

    gen = write_spec(
        tmp_path / "g.yaml", formats=["csv"], variables=variables, disclosure={"k": 3, "on_violation": "generalise"}
    )
    d = deliver(gen, extract, tmp_path / "a", key_dir=keys, docs=False)
    e = pd.read_csv(d.folder / "enrolments.csv")
    assert "age_at_enrolment" not in e.columns and "age_band" in e.columns
    assert d.generalised and d.generalised[0] == "age_band_10"
    assert e.groupby([c for c in ("age_band", "sex", "region") if c in e], dropna=False)["pid"].nunique().min() >= 3


def test_spss_and_stata_read_back_with_labels(tmp_path, extract, keys):
    spec = write_spec(tmp_path / "s.yaml", formats=["sav", "dta"], dates="full")
    d = deliver(spec, extract, tmp_path / "a", key_dir=keys, docs=False)
    for ext, reader in (("sav", pyreadstat.read_sav), ("dta", pyreadstat.read_dta)):
        df, meta = reader(str(d.folder / f"enrolments.{ext}"))
        labels = dict(zip(meta.column_names, meta.column_labels, strict=True))
        assert labels["sex"] == "Kjønn" and labels["has_baseline"].startswith("Har baseline")
        vl = meta.variable_value_labels
        assert vl["sex"] == {1: "Kvinne", 2: "Mann"} and vl["has_baseline"] == {0: "Nei", 1: "Ja"}
        assert len(df) == d.enrolments and set(df["sex"].dropna()) <= {1.0, 2.0}
        t, _ = reader(str(d.folder / f"treatments.{ext}"))
        assert str(t["date"].iloc[0])[:2] == "20"


def test_cli_reports_usage_errors_without_traceback(tmp_path, extract, keys, capsys):
    spec = write_spec(tmp_path / "s.yaml", variables={"enrolments": ["no_such_variable"]})
    status = main(
        [
            "extract",
            str(spec),
            "--extract",
            str(extract),
            "--out",
            str(tmp_path / "a"),
            "--key-dir",
            str(keys),
            "--no-docs",
        ]
    )
    assert status == 2
    assert "ukjent variabel «no_such_variable»" in capsys.readouterr().err


@pytest.mark.slow
def test_documentation_notebook_renders_and_is_reproducible(tmp_path, extract, keys):
    spec = write_spec(tmp_path / "s.yaml", formats=["csv"])
    a = deliver(spec, extract, tmp_path / "a", key_dir=keys, docs=True)
    b = deliver(spec, extract, tmp_path / "b", key_dir=keys, docs=True)
    html = (a.folder / "documentation.html").read_text(encoding="utf-8")
    assert "Kodebok" in html and "Testprosjekt" in html and "context_json" not in html
    fa, fb = _files(a.folder), _files(b.folder)
    assert [n for n in fa if fa[n] != fb[n]] == []


def _planted(kind: str) -> str:
    from opr_analysis.safety.nin import make_valid_nin

    return make_valid_nin("150385") if kind == "nin" else "PAS-00003"  # an original patient id of the extract


@pytest.mark.parametrize(("kind", "field"), [("nin", "title"), ("original_id", "research_question")])
def test_identifiable_data_planted_in_the_spec_stops_the_delivery(tmp_path, extract, keys, capsys, kind, field):
    """The reader never sees the spec; the output scan does, so the run stops and keeps the earlier delivery."""
    good = write_spec(tmp_path / "good.yaml", formats=["csv"])
    out = tmp_path / "leveranse"
    assert (
        main(["extract", str(good), "--extract", str(extract), "--out", str(out), "--key-dir", str(keys), "--no-docs"])
        == 0
    )
    previous = {p.name: p.read_bytes() for p in out.iterdir()}
    planted = _planted(kind)
    bad = write_spec(tmp_path / "bad.yaml", formats=["csv"], **{field: f"{BASE_SPEC[field]} {planted}"})
    capsys.readouterr()
    status = main(
        ["extract", str(bad), "--extract", str(extract), "--out", str(out), "--key-dir", str(keys), "--no-docs"]
    )
    err = capsys.readouterr().err
    assert status == 1
    expected = "et fødselsnummer" if kind == "nin" else "en pasient-ID fra det opprinnelige uttrekket"
    assert err.startswith("opr extract: ") and f"inneholder {expected}; ingenting er levert" in err
    assert any(name in err for name in ("README.md", "codebook.html", "spec.yaml", "manifest.json"))
    assert planted not in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == previous
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "bad.yaml",
        "delivery-log.csv",
        "good.yaml",
        "keys",
        "leveranse",
    ]


def test_spss_formats_and_measurement_levels_follow_the_codebook(tmp_path):
    import numpy as np

    from opr_analysis.extracts.writers import ColumnMeta, write

    frame = pd.DataFrame(
        {
            "year": pd.array([2021, 2023, None], dtype="Int64"),
            "sex": ["K", "M", None],
            "band": pd.Categorical(["18–29", "30–39", "18–29"], ordered=True),
            "score": [1.25, -10.5, np.nan],
            "done": pd.array([True, False, None], dtype="boolean"),
        }
    )
    meta = [
        ColumnMeta("year", "År", "int"),
        ColumnMeta("sex", "Kjønn", "code", {"K": "Kvinne", "M": "Mann"}),
        ColumnMeta("band", "Aldersgruppe", "code", {"18–29": "18–29", "30–39": "30–39"}, ordered=True),
        ColumnMeta("score", "Skår", "float"),
        ColumnMeta("done", "Ferdig", "bool"),
    ]
    sav = write(frame, meta, tmp_path / "f", "sav")
    df, m = pyreadstat.read_sav(str(sav))
    assert m.original_variable_types == {"year": "F4.0", "sex": "F1.0", "band": "F1.0", "score": "F6.2", "done": "F1.0"}
    assert m.variable_measure == {
        "year": "scale",
        "sex": "nominal",
        "band": "ordinal",
        "score": "scale",
        "done": "nominal",
    }
    assert df["year"].tolist()[:2] == [2021.0, 2023.0] and df["sex"].tolist()[:2] == [1.0, 2.0]
    _, dm = pyreadstat.read_dta(str(write(frame, meta, tmp_path / "f", "dta")))
    assert dm.original_variable_types["year"] == "%4.0f" and dm.original_variable_types["score"] == "%6.2f"
