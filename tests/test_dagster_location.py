"""The Dagster code location: definitions, schedule, and materialising partitions in memory."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from dti_assets.definitions import all_assets, defs
from dti_assets.jobs import annual_schedule
from dti_assets.partitions import yearly_partitions
from dti_assets.resources import DtiSettings, Warehouse
from pipelines.framework.preset import load_preset
from pipelines.store import warehouse
from pipelines.store.province import (
    WrongPresetError,
    ensure_warehouse_preset,
    load_warehouse_preset,
    warehouse_preset,
)
from pipelines.store.reference import store_units
from pipelines.validate.observations import grant_override

TINY = str(Path(__file__).parent / "fixtures" / "presets" / "tiny.yaml")
ANNUAL_ASSETS = [
    "reference_data",
    "raw_submissions",
    "validated_observations",
    "component_scores",
    "pillar_scores",
    "unit_ranks",
    "year_snapshot",
]


def test_assets_are_grouped_by_stage():
    groups = {
        key.to_user_string(): defs.resolve_assets_def(key).group_names_by_key[key]
        for key in defs.resolve_all_asset_keys()
    }
    assert groups == {
        "reference_data": "reference",
        "demo_submissions": "demo",
        "raw_submissions": "ingest",
        "validated_observations": "validate",
        "component_scores": "score",
        "pillar_scores": "score",
        "unit_ranks": "score",
        "year_snapshot": "publish",
        "update_periods": "publish",
        "year_report": "publish",
        "year_annex": "publish",
        "method_comparison": "analysis",
        "rank_uncertainty": "analysis",
        "statistical_coherence": "analysis",
        "unit_strengths": "analysis",
        "score_trends": "analysis",
        "one_framework_backfill": "analysis",
    }


def test_every_asset_that_opens_the_warehouse_queues_in_its_pool():
    # DuckDB has one writer per file: every asset holding a connection shares the pool that
    # dagster.yaml limits to one slot; only writing the demo's workbooks stays outside it
    graph = defs.resolve_asset_graph()
    pools = {key.to_user_string(): graph.get(key).pools for key in graph.get_all_asset_keys()}
    outside = sorted(name for name, pool in pools.items() if pool != {"dti_warehouse"})
    assert outside == ["demo_submissions"]
    assert len(pools) == 17


def test_annual_job_is_partitioned_by_completed_years_from_the_presets_first():
    # Đắk Lắk's preset covers 2022–2024 (data/presets/daklak.yaml): no earlier partition that
    # could never be materialised, and none after the years its decision governs
    job = defs.resolve_job_def("dti_annual")
    keys = job.partitions_def.get_partition_keys(current_time=dt.datetime(2026, 11, 23))
    assert keys == ["2022", "2023", "2024"]
    # completed years only: during 2024 the 2024 evaluation has not started
    keys = job.partitions_def.get_partition_keys(current_time=dt.datetime(2024, 6, 1))
    assert keys == ["2022", "2023"]


def test_partitions_start_at_the_location_presets_first_year():
    # the code location of another province ($DTI_PRESET): the tiny preset starts in 2023
    script = (
        "import datetime as dt; from dti_assets.definitions import defs; "
        "job = defs.resolve_job_def('dti_annual'); "
        "print(job.partitions_def.get_partition_keys(current_time=dt.datetime(2025, 3, 1)))"
    )
    env = {**os.environ, "DTI_PRESET": TINY}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "['2023', '2024']"


def test_blocking_check_is_declared_beside_the_observations():
    specs = {
        (spec.asset_key.to_user_string(), spec.name): spec.blocking
        for spec in defs.resolve_assets_def("validated_observations").check_specs
    }
    assert specs[("validated_observations", "blocking_expectations")] is True
    assert specs[("validated_observations", "completeness")] is False


def test_annual_schedule_scores_the_previous_year_early_in_q2():
    assert annual_schedule.cron_schedule == "0 6 1 4 *"
    context = dg.build_schedule_context(scheduled_execution_time=dt.datetime(2026, 4, 1, 6))
    request = annual_schedule(context)
    assert request.partition_key == "2025"


def _resources(home: Path) -> dict:
    return {
        "warehouse": Warehouse(database=str(home / "w.duckdb")),
        "settings": DtiSettings(
            preset=TINY, inbox=str(home / "inbox"), archive=str(home / "archive")
        ),
    }


def _materialize(home: Path, names: list[str], year: str = "2024") -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [a for a in all_assets if a.key.to_user_string() in names],
        partition_key=year,
        resources=_resources(home),
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


def _check_evaluations(result: dg.ExecuteInProcessResult) -> list:
    return [
        e.asset_check_evaluation_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    ]


def _check_results(result: dg.ExecuteInProcessResult) -> dict[str, tuple[bool, str]]:
    return {
        e.asset_check_evaluation_data.check_name: (
            e.asset_check_evaluation_data.passed,
            e.asset_check_evaluation_data.severity.value,
        )
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }


@pytest.fixture
def tiny_year(tmp_path: Path) -> Path:
    """A warehouse with 2024 of the tiny preset materialised through every annual asset."""
    assert _materialize(tmp_path, ["demo_submissions"]).success
    result = _materialize(tmp_path, ANNUAL_ASSETS)
    assert result.success
    assert _check_results(result) == {
        "blocking_expectations": (True, "ERROR"),
        "completeness": (True, "WARN"),
        "parts_add_up": (True, "ERROR"),
        "points_within_maximum": (True, "ERROR"),
        "ranks_form_a_ranking": (True, "ERROR"),
    }
    return tmp_path


def test_one_partition_materialises_into_a_temporary_duckdb(tiny_year: Path):
    con = warehouse.connect(tiny_year / "w.duckdb")
    try:
        # 4 departments + 5 communes, 2 pillars + 4 components + index = 7 nodes, 3 methods
        assert con.execute("SELECT count(*) FROM scores WHERE year = 2024").fetchone()[0] == (
            (4 + 5) * 7 * 3
        )
        snapshots = con.execute(
            "SELECT level, method, n_units FROM snapshots WHERE year = 2024 ORDER BY ALL"
        ).fetchall()
        assert snapshots == [
            ("commune", "minmax", 5),
            ("commune", "points", 5),
            ("commune", "zscore", 5),
            ("department", "minmax", 4),
            ("department", "points", 4),
            ("department", "zscore", 4),
        ]
        # communes are ranked within their district: H-1 has 3 communes, H-2 has 2
        groups = con.execute(
            "SELECT group_id, max(rank) FROM scores WHERE level = 'commune' AND "
            "node_level = 'index' AND method = 'points' GROUP BY ALL ORDER BY ALL"
        ).fetchall()
        assert [g for g, _ in groups] == ["H-1", "H-2"]
        assert all(top <= size for (_, top), size in zip(groups, (3, 2), strict=True))
    finally:
        con.close()


def test_rematerialising_a_year_adds_no_rows(tiny_year: Path):
    tables = [
        "submissions",
        "raw_values",
        "observations",
        "leaf_scores",
        "node_scores",
        "ranks",
        "snapshots",
        "snapshot_scores",
        "validation_results",
    ]

    def counts() -> dict[str, int]:
        con = warehouse.connect(tiny_year / "w.duckdb")
        try:
            return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}
        finally:
            con.close()

    before = counts()
    assert _materialize(tiny_year, ANNUAL_ASSETS).success
    assert counts() == before


def test_failed_blocking_check_stops_scoring_until_overridden(tiny_year: Path):
    con = warehouse.connect(tiny_year / "w.duckdb")
    try:
        # A value for a unit the registry does not know slips into the raw layer.
        con.execute(
            "INSERT INTO raw_values (submission_id, file_name, sheet, row_number, column_name, "
            "year, level, unit_id, indicator_id, kind, raw_text, value, reason) "
            "SELECT submission_id, file_name, sheet, 999, column_name, "
            "year, level, 'S-GHOST', indicator_id, kind, raw_text, value, reason "
            "FROM raw_values WHERE level = 'department' AND kind = 'self' LIMIT 1"
        )
        con.execute("DELETE FROM leaf_scores")
    finally:
        con.close()
    downstream = ["validated_observations", "component_scores", "pillar_scores"]
    blocked = _materialize(tiny_year, downstream)
    assert _check_results(blocked)["blocking_expectations"] == (False, "ERROR")
    # the failed check names the expectation and says where its Vietnamese details are
    [failed] = [e for e in _check_evaluations(blocked) if not e.passed]
    assert failed.partition == "2024"
    assert "department: unit_known" in failed.description
    assert "data-docs" in failed.description and "validation_results" in failed.description
    materialized = {
        e.asset_key.to_user_string() for e in blocked.get_asset_materialization_events()
    }
    assert "component_scores" not in materialized

    con = warehouse.connect(tiny_year / "w.duckdb")
    try:
        assert con.execute("SELECT count(*) FROM leaf_scores").fetchone()[0] == 0
        grant_override(con, 2024, "department", "Nguyễn Văn A", "đơn vị mới, chờ cập nhật danh mục")
    finally:
        con.close()
    allowed = _materialize(tiny_year, downstream)
    assert _check_results(allowed)["blocking_expectations"] == (False, "WARN")
    assert allowed.success
    con = warehouse.connect(tiny_year / "w.duckdb")
    try:
        assert con.execute("SELECT count(*) FROM leaf_scores").fetchone()[0] > 0
    finally:
        con.close()


def _materialize_range(home: Path, names: list[str], first: str, last: str):
    """One run over a range of years (the single-run backfill policy: one step per asset)."""
    return dg.materialize(
        [a for a in all_assets if a.key.to_user_string() in names],
        tags={
            "dagster/asset_partition_range_start": first,
            "dagster/asset_partition_range_end": last,
        },
        resources=_resources(home),
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


def _metadata_by_partition(result: dg.ExecuteInProcessResult, asset: str) -> dict[str, dict]:
    return {
        m.partition: {key: value.value for key, value in m.metadata.items()}
        for m in (e.materialization for e in result.get_asset_materialization_events())
        if m.asset_key.to_user_string() == asset
    }


@pytest.fixture(scope="module")
def two_years(tmp_path_factory) -> tuple[Path, dg.ExecuteInProcessResult]:
    """2023 and 2024 of the tiny preset in ONE run (as the demo and a backfill do)."""
    home = tmp_path_factory.mktemp("two_years")
    assert _materialize_range(home, ["demo_submissions"], "2023", "2024").success
    result = _materialize_range(home, ANNUAL_ASSETS, "2023", "2024")
    assert result.success
    return home, result


def test_a_multi_year_run_gives_each_partition_its_own_figures(two_years):
    home, result = two_years
    raw = _metadata_by_partition(result, "raw_submissions")
    # per year: 4 departments' + 5 communes' self-assessments + one appraisal per level = 11
    # files, not the 22 of the whole run
    assert {year: m["files_seen"] for year, m in raw.items()} == {"2023": 11, "2024": 11}
    snapshots = _metadata_by_partition(result, "year_snapshot")
    assert {year: m["snapshots"] for year, m in snapshots.items()} == {"2023": 6, "2024": 6}
    assert set(snapshots["2023"]["ids"]).isdisjoint(snapshots["2024"]["ids"])

    observed = _metadata_by_partition(result, "validated_observations")
    ranks = _metadata_by_partition(result, "unit_ranks")
    con = warehouse.connect(home / "w.duckdb")
    try:
        for year in ("2023", "2024"):
            missing = con.execute(
                "SELECT count(*) FROM observations "
                "WHERE year = ? AND level = 'department' AND value IS NULL",
                [int(year)],
            ).fetchone()[0]
            assert observed[year]["department"]["missing_values"] == missing
            assert observed[year]["department"]["units"] == 4
            assert observed[year]["department"]["blocking_failed"] == []
            best, worst = con.execute(
                "SELECT arg_max(unit_id, points), arg_min(unit_id, points) FROM unit_totals "
                "WHERE year = ? AND level = 'department' AND method = 'minmax'",
                [int(year)],
            ).fetchone()
            assert ranks[year]["department_top"].startswith(f"{best} ")
            assert ranks[year]["department_bottom"].startswith(f"{worst} ")
            preview = ranks[year]["department_preview"].splitlines()
            assert preview[0] == "| unit_id | unit_name | group_id | points | rank | n_missing |"
            assert preview[2].startswith(f"| {best} |") and len(preview) == 2 + 4
    finally:
        con.close()
    # the demo's seeded years differ: the figures are each year's, not the run's
    assert observed["2023"]["department"] != observed["2024"]["department"]
    assert ranks["2023"]["department_bottom"] != ranks["2024"]["department_bottom"]


def test_a_multi_year_run_reports_each_check_on_its_partition(two_years):
    _, result = two_years
    seen = sorted((e.check_name, e.partition, e.passed) for e in _check_evaluations(result))
    names = [
        "blocking_expectations",
        "completeness",
        "parts_add_up",
        "points_within_maximum",
        "ranks_form_a_ranking",
    ]
    assert seen == [(name, year, True) for name in names for year in ("2023", "2024")]


def test_checks_are_declared_per_year_partition():
    for key in defs.resolve_all_asset_keys():
        for spec in defs.resolve_assets_def(key).check_specs:
            assert spec.partitions_def == yearly_partitions, spec.name


def test_a_warehouse_refuses_another_provinces_preset(tmp_path: Path):
    assert _materialize(tmp_path, ["reference_data"]).success
    con = warehouse.connect(tmp_path / "w.duckdb")
    try:
        assert warehouse_preset(con) == "tiny"
    finally:
        con.close()
    # the commands' guard, before they start anything
    with pytest.raises(WrongPresetError, match="không chạy với 'hue'"):
        ensure_warehouse_preset(load_preset("hue"), tmp_path / "w.duckdb")
    ensure_warehouse_preset(load_preset(TINY), tmp_path / "w.duckdb")
    ensure_warehouse_preset(load_preset("hue"), tmp_path / "absent.duckdb")
    assert load_warehouse_preset(TINY, tmp_path / "w.duckdb").id == "tiny"
    with pytest.raises(WrongPresetError):
        load_warehouse_preset("hue", tmp_path / "w.duckdb")
    # and every asset's connection
    hue = {**_resources(tmp_path), "settings": DtiSettings(preset="hue")}
    result = dg.materialize(
        [a for a in all_assets if a.key.to_user_string() == "reference_data"],
        partition_key="2024",
        resources=hue,
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    assert not result.success
    [failure] = [e for e in result.all_events if e.is_step_failure]
    message = failure.step_failure_data.error.cause.message
    assert "'tiny'" in message and "'hue'" in message and "\n" not in message.strip()


def test_a_warehouse_filled_before_the_record_is_claimed_by_its_units(tmp_path: Path):
    con = warehouse.connect(tmp_path / "w.duckdb")
    try:
        store_units(con, load_preset(TINY))
        # as a warehouse from before migration 010: no record, no table
        con.execute("DROP TABLE warehouse_preset")
        con.execute("DELETE FROM schema_migrations WHERE version = 10")
        warehouse.migrate(con)
        assert warehouse_preset(con) == "tiny"
    finally:
        con.close()


def _make_dry_run(*args: str) -> str:
    repo = Path(__file__).parents[1]
    done = subprocess.run(
        ["make", "-n", "--no-print-directory", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.replace("\\\n\t", "")


def test_make_dagster_starts_in_its_own_home_on_the_chosen_port(tmp_path: Path):
    # `dagster dev` warns that ./dagster.yaml is ignored when started beside a dagster.yaml that
    # is not in DAGSTER_HOME: the target starts inside its home, whose dagster.yaml it writes
    repo = Path(__file__).parents[1]
    home = tmp_path / "dev"
    quiet = "ignore:Function `dev_command` is superseded:FutureWarning"
    commands = _make_dry_run("dagster", "PORT=3311", f"DAGSTER_HOME={home}").splitlines()
    assert any(c.startswith(f"test -f {home}/dagster.yaml || ") for c in commands)
    assert commands[-1] == (
        f"cd {home} && DAGSTER_HOME={home} PYTHONWARNINGS='{quiet}' "
        f"{repo}/.venv/bin/dagster dev "
        f"-w {repo}/workspace.yaml -p 3311"
    )


def test_make_notebooks_lays_jupyterlab_over_the_locked_environment():
    [command] = [c for c in _make_dry_run("notebooks").splitlines() if "jupyter lab" in c]
    assert "uv run --frozen --with jupyterlab jupyter lab --notebook-dir=notebooks" in command
    lock = (Path(__file__).parents[1] / "uv.lock").read_text(encoding="utf-8")
    assert 'name = "jupyterlab"' not in lock
