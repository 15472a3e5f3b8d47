"""Issue 23: every YAML file a user hands the program goes through one guarded loader and one schema
per kind of file. Each case is what an attacker or a careless user wrote; each must stop before any
work with a Norwegian message naming the file, the key path and the value (exit status 2)."""

from __future__ import annotations

import pytest
import yaml

from opr_analysis.cli import main
from opr_analysis.errors import UsageError
from opr_analysis.experiment import load_spec as load_experiment
from opr_analysis.extracts.spec import load_spec as load_extract_spec
from opr_analysis.indicators import load_definitions
from opr_analysis.report.texts import load_glossary
from opr_analysis.safety.nin import make_valid_nin

DEFINITION = {
    "id": "ny",
    "title": "T",
    "short": "s",
    "long": "l",
    "type": "share",
    "statistic": "waiting_within",
    "params": {"days": 30},
    "direction": "higher",
    "green": 0.9,
    "yellow": 0.7,
    "min_denominator": 5,
    "first_year": 2022,
}
EXPERIMENT = {
    "id": "kort-test",
    "question": "Svarer flere med kort skjema?",
    "window": {"first_due": "2025-01-01", "last_due": "2025-06-30"},
    "kinds": ["rf_3m"],
    "minimal_difference": 0.1,
}
BILLION_LAUGHS = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)}]" for i in range(8)]
    + ["indicators: *i"]
)


def _definitions(tmp_path, **changes) -> str:
    f = tmp_path / "mine.yaml"
    f.write_text(yaml.safe_dump({"indicators": [{**DEFINITION, **changes}]}, allow_unicode=True), encoding="utf-8")
    with pytest.raises(UsageError) as exc:
        load_definitions(f)
    return str(exc.value)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"parms": {"days": 60}}, "indicators[0] (ny).parms: ukjent nøkkel (mente du «params»?;"),
        ({"min_denominator": -5}, "indicators[0] (ny).min_denominator «-5»: må være minst 1"),
        ({"green": "høy"}, "indicators[0] (ny).green «høy»: ventet et tall"),
        ({"params": {"dager": 30}}, "indicators[0] (ny).params: ukjent parameter «dager» for waiting_within"),
        ({"params": {"days": 0}}, "indicators[0] (ny).params: «0» for days: ventet et heltall 1–3650 (dager)"),
        ({"first_year": -100000000}, "indicators[0] (ny).first_year «-100000000»: må være minst 1990"),
        ({"green": 1.5}, "indicators[0] (ny).green «1.5»: målnivåene for en andel må ligge mellom 0 og 1"),
        ({"yellow": 0.95}, "grønt nivå (0.9) må være bedre enn gult (0.95) når higher er bedre"),
        ({"type": "andel"}, "indicators[0] (ny).type «andel»: ventet en av share, mean, median"),
        ({"statistic": "waiting_withn"}, "ukjent statistikk (mente du «waiting_within»?;"),
    ],
)
def test_definitions_file_mistakes_are_named(tmp_path, change, expected):
    message = _definitions(tmp_path, **change)
    assert message.startswith("mine.yaml har feil:\n  ") and expected in message


def test_a_misspelt_key_in_the_definitions_stops_the_indicators_before_the_extract_is_read(tmp_path, capsys):
    f = tmp_path / "mine.yaml"
    f.write_text(yaml.safe_dump({"indicators": [{**DEFINITION, "id": "opr_ventetid_60d", "parms": {"days": 30}}]}))
    status = main(["indicators", str(tmp_path / "finnes-ikke"), "--out", str(tmp_path / "ut"), "--definitions", str(f)])
    err = capsys.readouterr().err
    assert status == 2 and "mente du «params»" in err and "Tabell" not in err  # nothing read, nothing written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.yaml"]


def _experiment(tmp_path, raw) -> str:
    f = tmp_path / "forsok.yaml"
    f.write_text(raw if isinstance(raw, str) else yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(UsageError) as exc:
        load_experiment(f)
    return str(exc.value)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"kinds": 5}, "kinds «5»: ventet en liste"),
        ({"block_sizes": [1000000000]}, "block_sizes[0] «1000000000»: må være høyst 60"),
        ({"age_bands": [18, 500]}, "age_bands[1] «500»: må være høyst 120"),
        ({"window": {"first_due": "2025-01-01", "last_due": "9999-12-31"}}, "datoen må ligge mellom 1990-01-01"),
        ({"primary_outcome": {"answered_within_days": 30, "extra": 1}}, "primary_outcome.extra: ukjent nøkkel"),
        ({"seed": 20250101}, "seed «20250101»: randomiseringsfrøet skal ikke stå i spesifikasjonen"),
        ({"alpha": ".nan"}, "alpha «.nan»: ventet et tall"),
    ],
)
def test_experiment_spec_mistakes_are_named(tmp_path, change, expected):
    assert expected in _experiment(tmp_path, {**EXPERIMENT, **change})


def test_a_date_holding_a_time_is_refused(tmp_path):
    raw = yaml.safe_dump(EXPERIMENT).replace("first_due: '2025-01-01'", "first_due: 2025-01-01 10:30:00")
    assert "window.first_due «2025-01-01T10:30:00»: ventet en dato uten klokkeslett" in _experiment(tmp_path, raw)


def test_an_experiment_id_holding_an_identity_number_is_refused(tmp_path, capsys):
    nin = make_valid_nin("010170")
    spec = tmp_path / "forsok.yaml"
    spec.write_text(yaml.safe_dump({**EXPERIMENT, "id": f"{nin[:6]}-{nin[6:]}"}), encoding="utf-8")
    status = main(["synth", "--out", str(tmp_path / "syntetisk"), "--scale", "0.01", "--experiment", str(spec)])
    err = capsys.readouterr().err
    assert status == 2 and "forsok.yaml, linje" in err and "fødselsnummer" in err
    assert nin[6:] not in err and not (tmp_path / "syntetisk").exists()


@pytest.mark.parametrize("kind", ["definitions", "experiment", "extract", "glossary"])
@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (BILLION_LAUGHS.encode(), "linje 1: YAML-ankre og -aliaser (&navn, *navn) er ikke tillatt"),
        (b"a: " + b"[" * 5000 + b"]" * 5000, "YAML-strukturen er nestet for dypt"),
        (b"x: " + b"y" * 300_000, "filen er større enn grensen på 262 144 byte"),
        ("title: Søvn og smerte\n".encode("cp1252"), "er ikke lagret som UTF-8 (byte 0xf8 på linje 1"),
        (b"title: a\ntitle: b\n", "linje 2: nøkkelen «title» står to ganger"),
        (b"title: [unclosed\n", "ikke gyldig YAML"),
    ],
)
def test_every_yaml_file_goes_through_the_guarded_loader(tmp_path, kind, content, expected):
    folder = tmp_path / "tekster"
    folder.mkdir()
    name = "ordliste.yaml" if kind == "glossary" else "fil.yaml"
    (folder / name).write_bytes(content)
    load = {
        "definitions": load_definitions,
        "experiment": load_experiment,
        "extract": load_extract_spec,
        "glossary": lambda _: load_glossary(folder),
    }[kind]
    with pytest.raises(UsageError) as exc:
        load(folder / name)
    assert str(exc.value).startswith(name) and expected in str(exc.value)


def test_the_cp1252_message_names_the_file_and_what_to_do(tmp_path):
    f = tmp_path / "indikatorer.yaml"
    f.write_bytes("indicators:\n  - title: Ventetid før første møte\n".encode("cp1252"))
    with pytest.raises(UsageError) as exc:
        load_definitions(f)
    assert str(exc.value) == (
        "indikatorer.yaml er ikke lagret som UTF-8 (byte 0xf8 på linje 2 kan ikke leses); den ser ut som "
        "Windows-1252 (Latin-1). Åpne filen og lagre den som UTF-8"
    )


def test_a_unit_named_with_a_date_form_identity_number_stops_the_indicators(tmp_path, capsys):
    from helpers import make_extract

    nin = make_valid_nin("010170")
    name = f"Smerteklinikk A {nin[:2]}.{nin[2:4]}.{nin[4:6]} {nin[6:]}"
    units = [dict(unit_id="A", name=name, orgnr="993467049", health_region="sor_ost")]
    enrol = [dict(patient_id=f"P{i}", unit_id="A", granted_date="2022-01-03") for i in range(3)]
    with pytest.raises(Exception, match="fødselsnummer"):  # the reader stops at the input
        make_extract(tmp_path / "uttrekk", units=units, enrolments=enrol)
    status = main(["indicators", str(tmp_path / "uttrekk"), "--out", str(tmp_path / "ut")])
    err = capsys.readouterr().err
    assert status == 1 and "units.csv, rad 1, kolonne «name»" in err and nin[6:] not in err
    assert not (tmp_path / "ut").exists()


def test_a_hostile_glossary_stops_the_report_before_any_work(tmp_path, capsys):
    import shutil

    from opr_analysis.report.pipeline import ROOT

    texts = tmp_path / "tekster"
    shutil.copytree(ROOT / "reports", texts)
    (texts / "2024").mkdir(exist_ok=True)
    (texts / "2024" / "ordliste.yaml").write_text("OPR: &x registeret\nOUS: *x\n", encoding="utf-8")
    argv = ["report", "--extract", str(tmp_path / "finnes-ikke"), "--out", str(tmp_path / "ut"), "--texts", str(texts)]
    assert main(argv) == 2
    assert capsys.readouterr().err == (
        "opr report: 2024/ordliste.yaml, linje 1: YAML-ankre og -aliaser (&navn, *navn) er ikke tillatt; "
        "skriv verdiene ut\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tekster"]
