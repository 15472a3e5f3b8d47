"""`opr --help` and the package import stay light: no pandas, statsmodels or plotnine until a
command needs them (issue 7: imports made every command slow to start)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ["pandas", "numpy", "statsmodels", "scipy", "pandera", "plotnine", "great_tables", "matplotlib"]


def _loaded_after(code: str) -> list[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_help_parser_imports_nothing_heavy():
    assert _loaded_after("from opr_analysis import cli\ncli.build_parser()") == []


def test_package_import_is_light_until_a_name_is_used():
    assert _loaded_after("import opr_analysis") == []
    assert "pandas" in _loaded_after("import opr_analysis\nopr_analysis.load_extract")


def test_lazy_names_resolve_to_their_modules():
    import opr_analysis
    from opr_analysis import reader, stats, synth

    assert opr_analysis.load_extract is reader.load_extract
    assert opr_analysis.followup_response is stats.followup_response
    assert set(stats.__all__) <= set(opr_analysis.__all__)
    assert opr_analysis.synthesize is synth.synthesize


def test_synth_command_defaults_mirror_the_generator():
    from opr_analysis.commands import synth as command
    from opr_analysis.synth import registry as synth
    from opr_analysis.synth import units

    assert (command.DEFAULT_SEED, command.FORMATS, command.DIALECTS) == (
        synth.DEFAULT_SEED,
        synth.FORMATS,
        synth.DIALECTS,
    )
    assert (command.MIN_SCALE, command.MAX_SCALE, command.FIRST_YEAR, command.LAST_YEAR, command.MAX_UNITS) == (
        synth.MIN_SCALE,
        synth.MAX_SCALE,
        synth.FIRST_YEAR,
        synth.LAST_YEAR,
        units.MAX_UNITS,
    )


def test_synth_no_answers_leaves_out_the_answer_tables(tmp_path):
    from opr_analysis import cli

    assert cli.main(["synth", "--out", str(tmp_path / "a"), "--scale", "0.02", "--years", "2023-2023"]) == 0
    assert (
        cli.main(["synth", "--out", str(tmp_path / "b"), "--scale", "0.02", "--years", "2023-2023", "--no-answers"])
        == 0
    )
    with_answers = {p.name for p in (tmp_path / "a").iterdir()}
    without = {p.name for p in (tmp_path / "b").iterdir()}
    assert with_answers - without == {"baseline_answers.csv", "followup_answers.csv"}
    assert (tmp_path / "a" / "referrals.csv").read_bytes() == (tmp_path / "b" / "referrals.csv").read_bytes()


def _pool_in_a_command_process(env_pool: str | None) -> str:
    """The Arrow memory pool a process gets after the CLI's start-up step (fresh interpreter)."""
    import os

    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    if env_pool is not None:
        env["ARROW_DEFAULT_MEMORY_POOL"] = env_pool
    code = (
        "from opr_analysis import cli; cli.prefer_jemalloc(); import pyarrow as pa; "
        "print(pa.default_memory_pool().backend_name)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, env=env, check=True)
    return out.stdout.strip()


@pytest.mark.skipif(sys.platform == "win32", reason="pyarrow has no jemalloc on Windows")
def test_commands_allocate_with_jemalloc_unless_the_user_chose_a_pool():
    assert _pool_in_a_command_process(None) == "jemalloc"
    assert _pool_in_a_command_process("system") == "system"
