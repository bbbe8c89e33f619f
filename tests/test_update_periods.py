"""Update periods: each recomputation from changed inputs records every unit's total and rank, so
a unit sees how it moved between updates within the year (Đắk Lắk 2534).

Tiny preset, department level, points (rubric) method; hand-computed totals (maximum 100):
P1.1 = min(x/100, 1) × 25 · P1.2 yes = 15 · P2.1 ≥4 → 30, 3 → 20, ≥1 → 10, else 0 ·
P2.2 (days, lower is better, target 1) = min(1/x, 1) × 30 · missing = 0.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil

import polars as pl
import pytest
from click.testing import CliRunner
from intake_support import T0, load, records, submit, submit_appraisal, tiny_copy

from dti_assets.definitions import defs
from dti_cli.main import cli
from pipelines import paths
from pipelines.evaluate.stages import compute_leaf_scores, compute_node_scores, compute_ranks
from pipelines.evaluate.updates import record_update_period, unit_history
from pipelines.intake.ingest import ingest_year
from pipelines.store import warehouse
from pipelines.store.reference import store_reference
from pipelines.store.warehouse import replace_rows, run_query

FIRST = {
    # 20 + 15 + 30 + 15 = 80
    "S-A": {"P1.1": 80.0, "P1.2": 1.0, "P2.1": 4.0, "P2.2": 2.0},
    # 12.5 + 0 + 20 + 30 = 62.5
    "S-B": {"P1.1": 50.0, "P1.2": 0.0, "P2.1": 3.0, "P2.2": 1.0},
    # 25 + 15 + 10 + 7.5 = 57.5
    "S-C": {"P1.1": 100.0, "P1.2": 1.0, "P2.1": 1.0, "P2.2": 4.0},
    # 5 + 15 + 0 + 0 (missing) = 20
    "S-D": {"P1.1": 20.0, "P1.2": 1.0, "P2.1": 0.0, "P2.2": None},
}
# S-D corrects its file: 22.5 + 15 + 30 + 30 = 97.5
SECOND = {"P1.1": 90.0, "P1.2": 1.0, "P2.1": 4.0, "P2.2": 0.5}


def rescore(con, preset, year: int = 2024) -> None:
    """The yearly job's steps after the ingest (observations without the GX run)."""
    for level in preset.levels:
        framework = preset.framework(level)
        frame = run_query(con, "observations", year=year, level=level)
        frame = frame.with_columns(
            framework_id=pl.lit(framework.id), framework_version=pl.lit(framework.version)
        )
        replace_rows(con, "observations", frame, {"year": year, "level": level})
    compute_leaf_scores(con, preset, year)
    compute_node_scores(con, preset, year)
    compute_ranks(con, preset, year)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory):
    """Three updates of 2024: the first files, S-D's corrected file, then an appraisal."""
    root = tmp_path_factory.mktemp("updates")
    preset_path = tiny_copy(root)
    preset = load(preset_path)
    con = warehouse.connect(root / "w.duckdb")
    store_reference(con, preset, 2024)
    inbox, archive = root / "inbox", root / "archive"
    for i, (unit, values) in enumerate(FIRST.items()):
        submit(preset, inbox, unit, values, at=T0 + i)
    ingest_year(con, preset, 2024, inbox, archive)
    rescore(con, preset)
    first = record_update_period(con, preset, 2024, now=dt.datetime(2024, 3, 5, 9))
    submit(preset, inbox, "S-D", SECOND, name="DTI_2024_S-D_lan2.xlsx", at=T0 + 3600)
    ingest_year(con, preset, 2024, inbox, archive)
    rescore(con, preset)
    second = record_update_period(con, preset, 2024, now=dt.datetime(2024, 3, 6, 9))
    # the appraisal finds 3 meetings, not 4: P2.1 20 instead of 30 → 87.5
    submit_appraisal(
        preset,
        inbox,
        [
            {
                "unit_id": "S-D",
                "indicator_id": "P2.1",
                "appraised_value": 3,
                "reason": "Chỉ có 3 biên bản họp",
            }
        ],
        at=T0 + 7200,
    )
    ingest_year(con, preset, 2024, inbox, archive)
    rescore(con, preset)
    third = record_update_period(con, preset, 2024, now=dt.datetime(2024, 4, 1, 9))
    con.close()
    return root / "w.duckdb", preset_path, (first, second, third)


@pytest.fixture
def year_with_updates(built):
    """The built warehouse, copied to this test's ``$DTI_HOME`` (the CLI reads it there)."""
    database, preset_path, periods = built
    paths.warehouse_path().parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(database, paths.warehouse_path())
    con = warehouse.connect(paths.warehouse_path())
    yield preset_path, load(preset_path), con, periods
    con.close()


def test_each_update_with_changed_inputs_is_a_period(year_with_updates) -> None:
    _, _, con, periods = year_with_updates
    assert [(p.period, p.n_units, p.new_files) for p in periods] == [
        (
            1,
            4,  # the four departments; the commune level has no file yet and is not scored
            ["DTI_2024_S-A.xlsx", "DTI_2024_S-B.xlsx", "DTI_2024_S-C.xlsx", "DTI_2024_S-D.xlsx"],
        ),
        (2, 4, ["DTI_2024_S-D_lan2.xlsx"]),
        (3, 4, ["THAM_DINH.xlsx"]),
    ]
    rows = records(
        con,
        "SELECT period, unit_id, points, rank FROM update_period_scores "
        "WHERE level = 'department' AND method = 'points' ORDER BY period, rank, unit_id",
    )
    assert [(r["period"], r["unit_id"], r["points"], r["rank"]) for r in rows] == [
        (1, "S-A", 80.0, 1),
        (1, "S-B", 62.5, 2),
        (1, "S-C", 57.5, 3),
        (1, "S-D", 20.0, 4),
        (2, "S-D", 97.5, 1),
        (2, "S-A", 80.0, 2),
        (2, "S-B", 62.5, 3),
        (2, "S-C", 57.5, 4),
        (3, "S-D", 87.5, 1),
        (3, "S-A", 80.0, 2),
        (3, "S-B", 62.5, 3),
        (3, "S-C", 57.5, 4),
    ]
    # every unit of every scored level, by every method, in each period: 4 units × 3 methods (the
    # commune level has no file and is not scored)
    assert records(
        con, "SELECT period, count(*) AS n FROM update_period_scores GROUP BY ALL ORDER BY 1"
    ) == [{"period": 1, "n": 12}, {"period": 2, "n": 12}, {"period": 3, "n": 12}]


def test_recomputing_without_changes_adds_no_period(year_with_updates) -> None:
    _, preset, con, _ = year_with_updates
    rescore(con, preset)
    assert record_update_period(con, preset, 2024) is None
    assert records(con, "SELECT max(period) AS p FROM update_periods") == [{"p": 3}]


def test_unit_history_shows_points_and_rank_moving(year_with_updates) -> None:
    _, _, con, _ = year_with_updates
    history = unit_history(con, 2024, "S-D", "points")
    assert history.select(
        "period", "recorded_at", "points", "points_change", "rank", "rank_change", "group_size"
    ).to_dicts() == [
        {
            "period": 1,
            "recorded_at": dt.datetime(2024, 3, 5, 9),
            "points": 20.0,
            "points_change": None,
            "rank": 4,
            "rank_change": None,
            "group_size": 4,
        },
        {
            "period": 2,
            "recorded_at": dt.datetime(2024, 3, 6, 9),
            "points": 97.5,
            "points_change": 77.5,
            "rank": 1,
            "rank_change": 3,
            "group_size": 4,
        },
        {
            "period": 3,
            "recorded_at": dt.datetime(2024, 4, 1, 9),
            "points": 87.5,
            "points_change": -10.0,
            "rank": 1,
            "rank_change": 0,
            "group_size": 4,
        },
    ]
    assert json.loads(history["new_files"][2]) == ["THAM_DINH.xlsx"]
    # S-A never changed its file, but moved down when S-D overtook it
    assert unit_history(con, 2024, "S-A", "points")["rank_change"].to_list() == [None, -1, 0]
    # every method when none is named
    assert unit_history(con, 2024, "S-A").height == 9


def test_dti_history_command(year_with_updates) -> None:
    preset_path, _, con, _ = year_with_updates
    con.close()
    result = CliRunner().invoke(
        cli,
        [
            "history",
            "--preset",
            str(preset_path),
            "--year",
            "2024",
            "--unit",
            "S-D",
            "--method",
            "points",
        ],
    )
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("│")]
    cells = [[c.strip() for c in line.strip("│").split("│")] for line in lines]
    cells = [c for c in cells if c[0]]  # long file lists wrap onto continuation lines
    assert [c[:6] for c in cells] == [
        # recorded at 09:00 UTC: 16:00 in Vietnam, the zone named once in the column header
        ["1", "05/03/2024 16:00", "20,00/100", "–", "4/4", "–"],
        ["2", "06/03/2024 16:00", "97,50/100", "+77,50", "1/4", "↑ 3"],
        ["3", "01/04/2024 16:00", "87,50/100", "-10,00", "1/4", "="],
    ]
    assert "giờ Việt Nam" in result.output
    nobody = CliRunner().invoke(
        cli, ["history", "--preset", str(preset_path), "--year", "2024", "--unit", "S-Q"]
    )
    assert nobody.exit_code == 2  # not a unit of the registry: a mistake, named
    assert "'S-Q'" in nobody.output and "Traceback" not in nobody.output


def test_update_periods_asset_follows_the_ranks_in_the_annual_job() -> None:
    asset = defs.resolve_assets_def("update_periods")
    key = asset.key
    assert asset.group_names_by_key[key] == "publish"
    assert {k.to_user_string() for k in asset.asset_deps[key]} == {"unit_ranks"}
    job = defs.resolve_job_def("dti_annual")
    assert "update_periods" in {k.to_user_string() for k in job.asset_layer.executable_asset_keys}
