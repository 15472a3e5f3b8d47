"""End-to-end deliveries from a tiny hand-made extract."""

import json
import re
import stat
import time
import zipfile

import pandas as pd
import pyarrow.parquet as pq
import pyreadstat
import pytest
from helpers import BASE_SPEC, write_research_extract, write_spec

from opr_analysis.cli import main
from opr_analysis.errors import UsageError
from opr_analysis.extracts import DisclosureError, deliver

ALL = ["csv", "parquet", "sav", "dta", "xlsx"]


@pytest.fixture(scope="module")
def extract(tmp_path_factory):
    return write_research_extract(tmp_path_factory.mktemp("extract") / "ex")


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
    # the projects' keys, and the delivery register's (patients' rights, issue 26)
    assert sorted((keys).iterdir()) == [
        keys / "_leveranseregister.key",
        keys / "annet-prosjekt.key",
        keys / "test-prosjekt.key",
    ]
    for key in keys.iterdir():
        assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_environment_key_overrides_store_and_never_leaks(tmp_path, extract, keys, monkeypatch):
    secret = "hemmelig-nokkel-" + "x" * 40
    monkeypatch.setenv("OPR_EXTRACT_KEY_TEST_PROSJEKT", secret)
    spec = write_spec(tmp_path / "s.yaml")
    d = deliver(spec, extract, tmp_path / "a", key_dir=keys, docs=False)
    assert [p.name for p in keys.iterdir()] == ["_leveranseregister.key"]  # no project key file (issue 26: register)
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

    # Generalising age cannot help here: patients with two enrolments in different age bands stay unique on
    # the patient-level record (issue 12.2). Without the last step the ladder runs out and the delivery is
    # refused; with it (the default ladder) those patients are left out, and the flow says so.
    ladder = ["age_band_10", "age_band_20", "drop_region"]
    gen = write_spec(
        tmp_path / "g.yaml",
        formats=["csv"],
        variables=variables,
        disclosure={"k": 3, "on_violation": "generalise", "generalise": ladder},
    )
    with pytest.raises(DisclosureError, match="etter generalisering"):
        deliver(gen, extract, tmp_path / "a", key_dir=keys, docs=False)
    gen = write_spec(
        tmp_path / "g.yaml", formats=["csv"], variables=variables, disclosure={"k": 3, "on_violation": "generalise"}
    )
    d = deliver(gen, extract, tmp_path / "a", key_dir=keys, docs=False)
    assert d.generalised[-1] == "drop_rare_patients" and d.patients < 60
    assert _joined_records(d.folder, {"enrolments": ["age_band", "sex"]}).value_counts().min() >= 3
    assert "færre enn k = 3 deler, utelatt" in (d.folder / "README.md").read_text(encoding="utf-8")
    variables = {"enrolments": ["region", "patients.sex", "enrolment_year"]}
    gen = write_spec(
        tmp_path / "g.yaml", formats=["csv"], variables=variables, disclosure={"k": 3, "on_violation": "generalise"}
    )
    d = deliver(gen, extract, tmp_path / "a", key_dir=keys, docs=False)
    e = pd.read_csv(d.folder / "enrolments.csv")
    assert "year_to_period" in d.generalised
    records = e.groupby("pid").apply(
        lambda g: tuple(sorted(set(map(str, zip(g["region"], g["sex"], g["enrolment_year"])))))
    )
    assert records.value_counts().min() >= 3


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
        t, tmeta = reader(str(d.folder / f"treatments.{ext}"))
        # Full treatment dates made patients unique on the joined record: delivered as days after enrolment.
        assert "dates_relative" in d.generalised and (t["date"].dropna() >= 0).all()
        assert "dager etter rett til helsehjelp" in dict(zip(tmeta.column_names, tmeta.column_labels))["date"]


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
    """An identity number in the spec is refused when the spec is read (exit 2, before any work); an original
    patient id is not a pattern the loader knows, so the output scan stops the run and keeps the earlier delivery."""
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
    if kind == "nin":
        assert status == 2
        assert err.startswith("opr extract: bad.yaml, linje ") and "filen inneholder et fødselsnummer" in err
    else:
        assert status == 1
        assert err.startswith("opr extract: ") and "inneholder en pasient-ID fra det opprinnelige uttrekket" in err
        assert any(name in err for name in ("README.md", "codebook.html", "spec.yaml", "manifest.json"))
    assert planted not in err and planted[6:] not in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == previous
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "bad.yaml",
        "delivery-log.csv",
        "delivery-register-patients.csv",
        "delivery-register.csv",
        "good.yaml",
        "keys",
        "leveranse",
    ]


def test_two_projects_under_one_master_key_share_no_pseudonym(tmp_path, extract, keys, monkeypatch):
    """Issue 12.3: the generic environment key (or a key file copied between projects) links nothing."""
    monkeypatch.setenv("OPR_EXTRACT_KEY", "felles-hovednokkel-" + "z" * 40)
    s1 = write_spec(tmp_path / "s1.yaml", formats=["csv"])
    s2 = write_spec(tmp_path / "s2.yaml", formats=["csv"], project="annet-prosjekt")
    a = pd.read_csv(deliver(s1, extract, tmp_path / "a", key_dir=keys, docs=False).folder / "enrolments.csv")
    b = pd.read_csv(deliver(s2, extract, tmp_path / "b", key_dir=keys, docs=False).folder / "enrolments.csv")
    assert a["pid"].nunique() == b["pid"].nunique() == 60
    assert len(set(a["pid"]) & set(b["pid"])) == 0
    keys.mkdir()
    key = "0123456789abcdef" * 4
    for project in ("test-prosjekt", "annet-prosjekt"):
        (keys / f"{project}.key").write_text(key + "\n")
        (keys / f"{project}.key").chmod(0o600)
    monkeypatch.delenv("OPR_EXTRACT_KEY")
    c = pd.read_csv(deliver(s1, extract, tmp_path / "c", key_dir=keys, docs=False).folder / "enrolments.csv")
    d = pd.read_csv(deliver(s2, extract, tmp_path / "d", key_dir=keys, docs=False).folder / "enrolments.csv")
    assert len(set(c["pid"]) & set(d["pid"])) == 0


def test_new_key_prints_one_line_where_and_what_losing_it_means(tmp_path, extract, keys, capsys):
    spec = write_spec(tmp_path / "s.yaml", formats=["csv"])
    deliver(spec, extract, tmp_path / "a", key_dir=keys, docs=False)
    err = capsys.readouterr().err.strip().splitlines()
    # one line per new key: the project's, and the delivery register's on its first use (issue 26)
    assert len(err) == 2 and str(keys / "test-prosjekt.key") in err[0] and "nytt pseudonym" in err[0]
    assert str(keys / "_leveranseregister.key") in err[1] and "Går den tapt" in err[1]
    deliver(spec, extract, tmp_path / "b", key_dir=keys, docs=False)
    assert capsys.readouterr().err == ""


def test_spec_free_text_is_escaped_in_html(tmp_path, extract, keys):
    """Issue 12.5: a spec title is text, never markup, in codebook.html and the rendered documentation title."""
    import nbformat

    from opr_analysis.report.fallback import render_fallback

    evil = "</title><script>alert(1)</script>"
    spec = write_spec(tmp_path / "s.yaml", formats=["csv"], title=evil)
    d = deliver(spec, extract, tmp_path / "a", key_dir=keys, docs=False)
    page = (d.folder / "codebook.html").read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;/title&gt;&lt;script&gt;" in page
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("## Utvalg\n\nTekst.")])
    nbformat.write(nb, tmp_path / "doc.ipynb")
    page = render_fallback(tmp_path / "doc.ipynb", tmp_path / "doc.html", evil).read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;/title&gt;&lt;script&gt;" in page


def _joined_records(folder, files_qis):
    """The patient-level record a recipient assembles from the delivered CSVs (independent of the package)."""
    per_file = []
    for name, cols in files_qis.items():
        f = pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False)
        per_file.append(f.groupby("pid").apply(lambda g, c=cols: tuple(sorted(set(map(tuple, g[c].to_numpy()))))))
    return pd.concat(per_file, axis=1).fillna("").astype(str).agg("|".join, axis=1)


def test_spec_cannot_remove_the_codebooks_quasi_identifiers(tmp_path, extract, keys):
    """Issue 12.2: `quasi_identifiers: []` used to switch k-anonymity off."""
    variables = {"enrolments": ["age_at_enrolment", "patients.sex", "region"]}
    for qis in ([], ["has_baseline"]):
        spec = write_spec(
            tmp_path / "s.yaml",
            formats=["csv"],
            variables={**variables, "enrolments": [*variables["enrolments"], "has_baseline"]},
            disclosure={"k": 3, "on_violation": "refuse", "quasi_identifiers": qis},
        )
        with pytest.raises(DisclosureError) as exc:
            deliver(spec, extract, tmp_path / "a", key_dir=keys, docs=False)
        assert "enrolments.age_at_enrolment" in str(exc.value) and "enrolments.sex" in str(exc.value)
        assert not (tmp_path / "a").exists()


def test_k_is_checked_on_the_record_joined_over_every_file(tmp_path, extract, keys):
    """Sex in one file, treatment kind and exact date in another: unique once joined on pid."""
    spec = write_spec(
        tmp_path / "s.yaml",
        formats=["csv"],
        dates="full",
        variables={"enrolments": ["patients.sex"], "treatments": ["treatments.kind", "treatments.date"]},
        disclosure={"k": 3, "on_violation": "refuse"},
    )
    with pytest.raises(DisclosureError) as exc:
        deliver(spec, extract, tmp_path / "a", key_dir=keys, docs=False)
    assert "treatments.date" in str(exc.value) and "PAS-" not in str(exc.value)
    gen = write_spec(
        tmp_path / "g.yaml",
        formats=["csv"],
        dates="full",
        variables={"enrolments": ["patients.sex"], "treatments": ["treatments.kind", "treatments.date"]},
        disclosure={"k": 3, "on_violation": "generalise"},
    )
    d = deliver(gen, extract, tmp_path / "a", key_dir=keys, docs=False)
    records = _joined_records(d.folder, {"enrolments": ["sex"]})
    assert records.value_counts().min() >= 3
    readme = (d.folder / "README.md").read_text(encoding="utf-8")
    assert "treatments.date" in readme and "ikke identifiserende" in readme  # the judgement and its reason
    codebook = pd.read_csv(d.folder / "codebook.csv", keep_default_na=False)
    row = codebook[(codebook["file"] == "treatments") & (codebook["variable"] == "date")].iloc[0]
    assert row["disclosure_class"] == "other" and "innskriving" in row["not_identifying_because"]
    assert codebook.loc[codebook["variable"] == "sex", "disclosure_class"].eq("quasi_identifier").all()


def test_every_date_age_sex_region_and_band_is_a_quasi_identifier():
    from opr_analysis.extracts.variables import classify, resolve

    for name, level in [
        ("enrolments.first_consultation_date", "enrolments"),
        ("enrolments.closed_date", "enrolments"),
        ("enrolments.granted_date", "enrolments"),
        ("treatments.date", "treatments"),
        ("baseline_responses.submitted_at", "baseline_responses"),
        ("age_at_enrolment", "enrolments"),
        ("age_band", "enrolments"),
        ("patients.sex", "enrolments"),
        ("region", "enrolments"),
        ("enrolment_year", "enrolments"),
    ]:
        assert classify(resolve(name, level)) == "quasi_identifier", name
    assert classify(resolve("enrolments.diagnosis", "enrolments")) == "sensitive"
    assert classify(resolve("has_baseline", "enrolments")) == "other"


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
