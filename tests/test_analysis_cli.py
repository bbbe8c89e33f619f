"""The analysis from the command line (dti_cli/analysis_commands.py, history_commands.py) against
the warehouse and against COINr files, and from Dagster (group "analysis", job dti_analysis)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import polars as pl
import pytest
from analysis_support import ASEM, TINY, TINY_FRAMEWORK, analysis_warehouse, copy_of
from click.testing import CliRunner

from dti_cli.main import cli


@pytest.fixture
def warehouse(tmp_path_factory, tmp_path, monkeypatch) -> Path:
    copy = copy_of(analysis_warehouse(tmp_path_factory), tmp_path)
    monkeypatch.setenv("DTI_WAREHOUSE", str(copy))
    monkeypatch.setenv("DTI_PRESET", TINY)
    return copy


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_compare_uncertainty_coherence_strengths_on_the_warehouse(warehouse, tmp_path):
    out = run("compare", "--year", "2024", "--level", "department", "--out", str(tmp_path / "c"))
    assert "minmax:observed|zero" in out and "Largest rank moves" in out
    assert (tmp_path / "c" / "correlations.csv").exists()
    out = run("uncertainty", "--year", "2024", "--level", "commune", "--replications", "200")
    assert "replications/s" in out and "Sensitivity" in out
    out = run("coherence", "--year", "2024", "--level", "department", "--winsorise")
    assert "Cronbach" in out
    out = run("strengths", "--year", "2024", "--level", "department", "--unit", "S-A")
    assert "S-A" in out and ("strength" in out or "weakness" in out)


def test_store_then_replay_from_the_warehouse(warehouse):
    run(
        "uncertainty",
        "--year",
        "2024",
        "--level",
        "department",
        "--replications",
        "100",
        "--seed",
        "9",
        "--store",
    )
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        run_id = con.execute(
            "SELECT run_id FROM uncertainty_runs WHERE seed = 9 AND level = 'department'"
        ).fetchone()[0]
        stored = con.execute(
            "SELECT count(*) FROM rank_uncertainty WHERE run_id = ?", [run_id]
        ).fetchone()[0]
    finally:
        con.close()
    assert stored == 4
    out = run("uncertainty", "--replay", "42", "--run", run_id)
    assert "identical" in out
    for command in ("compare", "coherence", "strengths"):
        run(command, "--year", "2024", "--level", "commune", "--store")
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        counts = {
            table: con.execute(
                f"SELECT count(*) FROM {table} WHERE year = 2024 AND level = 'commune'"
            ).fetchone()[0]
            for table in ("method_comparison", "coherence_alpha", "unit_strengths")
        }
    finally:
        con.close()
    assert all(counts.values()), counts


def test_trends_and_backfill_on_the_warehouse(warehouse, tmp_path):
    out = run("trends", "--level", "department")
    assert "Largest rises" in out
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        unit = con.execute(
            "SELECT min(unit_id) FROM snapshot_scores JOIN snapshots USING (snapshot_id) "
            "WHERE level = 'department'"
        ).fetchone()[0]
    finally:
        con.close()
    out = run("trends", "--level", "department", "--unit", unit)
    assert f"{unit}: year over year" in out and "rank_change" in out
    revised = tmp_path / "revised.yaml"
    revised.write_text(
        TINY_FRAMEWORK.read_text(encoding="utf-8").replace('"TEST/2023"', '"TEST/2023-rev"'),
        encoding="utf-8",
    )
    out = run("backfill", "--framework-level", f"department={revised}", "--all-years")
    assert "6 snapshots: 6 new" in out and "--framework-hash" in out
    framework_hash = out.split("--framework-hash ")[1].split()[0]
    out = run("trends", "--level", "department", "--framework-hash", framework_hash)
    assert "warning" not in out
    out = run("backfill", "--framework-level", f"department={revised}", "--all-years")
    assert "0 new" in out  # the same again adds nothing


def test_clear_errors():
    runner = CliRunner()
    result = runner.invoke(cli, ["compare", "--year", "2024"])
    assert result.exit_code == 2 and "--level" in result.output
    result = runner.invoke(cli, ["backfill", "--all-years"])
    assert result.exit_code == 2 and "--framework-level" in result.output


def test_every_analysis_on_the_asem_files(tmp_path):
    files = ["--framework", str(ASEM / "iMeta.csv"), "--data", str(ASEM / "raw_iData_full.csv")]
    out = run("compare", *files, "--settings", "points,minmax,zscore:rescaled")
    assert "Against the reference" in out
    out = run("uncertainty", *files, "--out", str(tmp_path / "u"))
    assert "1000 replications × 51 units" in out
    run_info = json.loads((tmp_path / "u" / "run.json").read_text())
    assert run_info["params"]["seed"] == 2534
    assert pl.read_parquet(tmp_path / "u" / "replications.parquet").height == 1000
    out = run("uncertainty", *files, "--replay", "321", "--from", str(tmp_path / "u"))
    assert "identical" in out
    assert "outlier" in run("coherence", *files)
    assert "CHN" in run("strengths", *files, "--unit", "CHN")
    panel = ["--framework", str(ASEM / "iMeta.csv"), "--data", str(ASEM / "D_panel_raw_iData.csv")]
    assert "Compound annual growth" in run("trends", *panel)
    run("backfill", *panel, "--out", str(tmp_path / "b"))
    scores = pl.read_csv(tmp_path / "b" / "backfill_scores.csv")
    assert sorted(scores["year"].unique().to_list()) == [2018, 2019, 2020, 2021, 2022]


def test_analysis_assets_are_their_own_group_and_job():
    from dti_assets.definitions import analysis_assets, defs

    names = {key.to_user_string() for asset in analysis_assets for key in asset.keys}
    assert names == {
        "method_comparison",
        "rank_uncertainty",
        "statistical_coherence",
        "unit_strengths",
        "score_trends",
        "one_framework_backfill",
    }
    annual = defs.resolve_job_def("dti_annual")
    analysis = defs.resolve_job_def("dti_analysis")
    annual_keys = {k.to_user_string() for k in annual.asset_layer.executable_asset_keys}
    analysis_keys = {k.to_user_string() for k in analysis.asset_layer.executable_asset_keys}
    assert names.isdisjoint(annual_keys)  # the yearly job stays fast
    assert analysis_keys == names


def test_the_dagster_assets_filled_every_table(tmp_path_factory):
    warehouse = analysis_warehouse(tmp_path_factory)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        counts = {
            table: con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in (
                "method_comparison",
                "method_correlations",
                "rank_uncertainty",
                "sensitivity_indices",
                "uncertainty_replications",
                "coherence_alpha",
                "coherence_correlations",
                "indicator_outliers",
                "score_trends",
                "score_growth",
                "unit_strengths",
                "backfill_runs",
            )
        }
        years = con.execute("SELECT DISTINCT year_to FROM score_trends").fetchall()
    finally:
        con.close()
    assert all(counts.values()), counts
    assert years == [(2024,)]  # 2023 has no earlier year
