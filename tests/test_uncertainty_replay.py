"""Replications given as a table and named weight sets (pipelines/analysis/parameters_table.py,
replay.py, weight_sets.py, ``dti
uncertainty
--parameters``, ``--weights-sets``, the ``parameters.csv`` of ``--out``). Expected values are
computed by hand in the comments."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from analysis_support import ASEM, TINY_FRAMEWORK, hand_input
from click.testing import CliRunner

from dti_cli.main import cli
from pipelines.analysis.inputs import from_files
from pipelines.analysis.parameters_table import parameters_of_run, read_parameters
from pipelines.analysis.replay import replay_parameters
from pipelines.analysis.uncertainty import run_uncertainty
from pipelines.analysis.weight_sets import compare_weight_sets, read_weight_sets
from pipelines.workbook.csv_cells import CsvFileError

# Tiny framework: P1 (max 40) = P1.1 ratio to 100 % (25) + P1.2 yes/no (15); P2 (max 60) =
# P2.1 steps 4→30, 3→20, 1→10 (30) + P2.2 days, lower is better, ratio to 1 day (30).
# Points (setting "points"):
#   A: P1.1 100 → 25, P1.2 1 → 15, P2.1 1 → 10, P2.2 4 → 7.5: P1 40, P2 17.5, DTI 57.5
#   B: P1.1  40 → 10, P1.2 0 →  0, P2.1 4 → 30, P2.2 1 → 30:  P1 10, P2 60,   DTI 70
#   C: P1.1  80 → 20, P1.2 1 → 15, P2.1 3 → 20, P2.2 4 → 7.5: P1 35, P2 27.5, DTI 62.5
#   D: P1.1  68 → 17, P1.2 1 → 15, P2.1 3 → 20, P2.2 2 → 15:  P1 32, P2 35,   DTI 67
# Nominal ranks: B 1, D 2, C 3, A 4.
VALUES = {
    "A": {"P1.1": 100.0, "P1.2": 1.0, "P2.1": 1.0, "P2.2": 4.0},
    "B": {"P1.1": 40.0, "P1.2": 0.0, "P2.1": 4.0, "P2.2": 1.0},
    "C": {"P1.1": 80.0, "P1.2": 1.0, "P2.1": 3.0, "P2.2": 4.0},
    "D": {"P1.1": 68.0, "P1.2": 1.0, "P2.1": 3.0, "P2.2": 2.0},
}


def _points_input():
    from pipelines.scoring.methods import MethodSpec

    return hand_input(VALUES, nominal=MethodSpec("points"))


def _write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return path


def _ranks(result, run: str, node: str = "DTI") -> dict[str, int]:
    frame = result.scores.filter((pl.col("run") == run) & (pl.col("node_id") == node))
    return dict(zip(frame["unit_id"], frame["rank"], strict=True))


# ---------------------------------------------------------------- weight sets

# "equal pillars" (P1 = P2 = 1): each pillar gets 100 × 1/2 = 50 points, so P1's points × 50/40
# = 1.25 and P2's × 50/60 = 5/6:
#   A 40 × 1.25 + 17.5 × 5/6 = 50 + 14.583 = 64.583 → 3   (nominal 4: shift +1)
#   B 10 × 1.25 + 60 × 5/6   = 12.5 + 50    = 62.5   → 4   (nominal 1: shift −3)
#   C 35 × 1.25 + 27.5 × 5/6 = 43.75 + 22.917 = 66.667 → 2 (nominal 3: shift +1)
#   D 32 × 1.25 + 35 × 5/6   = 40 + 29.167  = 69.167 → 1   (nominal 2: shift +1)
# "government ×3" (P1 = 1, P2 = 3): P1 gets 25 (× 0.625), P2 75 (× 1.25):
#   A 25 + 21.875 = 46.875 → 4; B 6.25 + 75 = 81.25 → 1; C 21.875 + 34.375 = 56.25 → 3;
#   D 20 + 43.75 = 63.75 → 2: the nominal order, every shift 0.
SETS = [
    ["set_name", "node_id", "weight"],
    ["equal pillars", "P1", "1"],
    ["equal pillars", "P2", "1"],
    ["government ×3", "P1", "1"],
    ["government ×3", "P2", "3"],
]


def test_weight_sets_ranks_and_shifts_by_hand(tmp_path):
    inp = _points_input()
    sets = read_weight_sets(_write(tmp_path / "sets.csv", SETS), inp.framework)
    assert sets == {
        "equal pillars": {"P1": 1.0, "P2": 1.0},
        "government ×3": {"P1": 1.0, "P2": 3.0},
    }
    long, wide = compare_weight_sets(inp, sets)
    equal = long.filter(pl.col("set_name") == "equal pillars").sort("unit_id")
    assert equal["points"].to_list() == pytest.approx([64.583333, 62.5, 66.666667, 69.166667])
    assert equal["rank"].to_list() == [3, 4, 2, 1]
    assert equal["nominal_rank"].to_list() == [4, 1, 3, 2]
    assert equal["rank_shift"].to_list() == [1, -3, 1, 1]
    third = long.filter(pl.col("set_name") == "government ×3").sort("unit_id")
    assert third["points"].to_list() == pytest.approx([46.875, 81.25, 56.25, 63.75])
    assert third["rank_shift"].to_list() == [0, 0, 0, 0]
    assert wide["unit_id"].to_list() == ["B", "D", "C", "A"]  # by nominal rank
    assert wide["shift equal pillars"].to_list() == [-3, 1, 1, 1]


def test_weight_sets_refused_with_file_line_column_value(tmp_path):
    inp = _points_input()
    bad = _write(tmp_path / "sets.csv", [*SETS, ["equal pillars", "P3", "1"]])
    with pytest.raises(CsvFileError, match=r"sets\.csv · dòng 6 · cột B \(node_id\): 'P3'"):
        read_weight_sets(bad, inp.framework)
    bad = _write(tmp_path / "sets.csv", [*SETS[:2], ["equal pillars", "P2", "một"]])
    with pytest.raises(CsvFileError, match=r"dòng 3 · cột C \(weight\): trọng số 'một'"):
        read_weight_sets(bad, inp.framework)


# ---------------------------------------------------------------- a parameters table

# run 1: points, zero, multipliers, P2 × 0.5 — P1 and P2 share 100 as 40 : 30, so P1's points
#   × 100/70 = 10/7 and P2's × 0.5 × 10/7 = 5/7:
#   A (400 + 87.5)/7 = 69.643, B (100 + 300)/7 = 57.143, C (350 + 137.5)/7 = 69.643,
#   D (320 + 175)/7 = 70.714 → D 1, A and C 2 (tied: the lowest rank), B 4
# run 2: points, zero, absolute weights P1.1 = P1.2 = 1 — each gets 40/2 = 20 of P1: P1.1's
#   points × 20/25 = 0.8, P1.2's × 20/15 = 4/3:
#   A 20 + 20 + 17.5 = 57.5, B 8 + 0 + 60 = 68, C 16 + 20 + 27.5 = 63.5, D 13.6 + 20 + 35 = 68.6
#   → D 1, B 2, C 3, A 4
# run 3: minmax:observed, zero, nominal weights — (v − min)/(max − min) × max points, P2.2 lower
#   is better ((4 − v)/3):
#   P1.1 (v − 40)/60 × 25: A 25, B 0, C 16.667, D 11.667; P1.2: A 15, B 0, C 15, D 15;
#   P2.1 (v − 1)/3 × 30: A 0, B 30, C 20, D 20; P2.2: A 0, B 30, C 0, D 20
#   DTI: A 40, B 60, C 51.667, D 66.667 → D 1, B 2, C 3, A 4
PARAMETERS = [
    ["run", "setting", "missing", "weight_kind", "P1", "P2", "P1.1", "P1.2"],
    ["run 1", "points", "zero", "multiplier", "", "0.5", "", ""],
    ["run 2", "points", "zero", "absolute", "", "", "1", "1"],
    ["run 3", "minmax:observed", "zero", "", "", "", "", ""],
]


def test_three_runs_ranked_by_hand(tmp_path):
    inp = _points_input()
    parameters = read_parameters(_write(tmp_path / "p.csv", PARAMETERS), inp.framework)
    result = replay_parameters(inp, parameters)
    assert _ranks(result, "run 1") == {"A": 2, "B": 4, "C": 2, "D": 1}
    assert _ranks(result, "run 2") == {"A": 4, "B": 2, "C": 3, "D": 1}
    assert _ranks(result, "run 3") == {"A": 4, "B": 2, "C": 3, "D": 1}
    dti = result.scores.filter(pl.col("node_id") == "DTI").sort("run", "unit_id")
    assert dti["points"].to_list() == pytest.approx(
        [487.5 / 7, 400 / 7, 487.5 / 7, 495 / 7, 57.5, 68, 63.5, 68.6, 40, 60, 155 / 3, 200 / 3]
    )
    # every node is scored: P1 in run 2 is A 40, B 8, C 36, D 33.6 → A 1, C 2, D 3, B 4
    assert _ranks(result, "run 2", "P1") == {"A": 1, "B": 4, "C": 2, "D": 3}
    # rank statistics over the three runs (type 7): B's ranks 4, 2, 2 → median 2, p05 2, p95 3.8
    b = result.units.filter(pl.col("unit_id") == "B").row(0, named=True)
    assert (b["nominal_rank"], b["median_rank"], b["p05_rank"]) == (1, 2.0, 2.0)
    assert b["p95_rank"] == pytest.approx(3.8)
    # the same table as Parquet gives the same runs
    parquet = tmp_path / "p.parquet"
    pl.read_csv(tmp_path / "p.csv", infer_schema=False).write_parquet(parquet)
    again = replay_parameters(inp, read_parameters(parquet, inp.framework))
    assert np.array_equal(again.ranks, result.ranks)


@pytest.mark.parametrize(
    ("row", "where"),
    [
        (["run 4", "minmax:upper", "zero", "", "", "", "", ""], "dòng 5 · cột B (setting)"),
        (["run 4", "points", "none", "", "", "", "", ""], "dòng 5 · cột C (missing)"),
        (["run 4", "points", "zero", "", "", "abc", "", ""], "dòng 5 · cột F (P2): trọng số 'abc'"),
        (["run 4", "points", "zero", "", "", "-1", "", ""], "dòng 5 · cột F (P2): trọng số '-1'"),
        (["run 4", "points", "zero", "weights", "", "", "", ""], "dòng 5 · cột D (weight_kind)"),
        (["run 1", "points", "zero", "", "", "", "", ""], "dòng 5 · cột A (run): lần chạy 'run 1'"),
    ],
)
def test_a_malformed_parameters_file_is_refused(tmp_path, row, where):
    inp = _points_input()
    path = _write(tmp_path / "p.csv", [*PARAMETERS, row])
    with pytest.raises(CsvFileError) as refused:
        read_parameters(path, inp.framework)
    assert str(refused.value).startswith(f"{path} · {where}")


def _data_file(tmp_path: Path) -> Path:
    return _write(
        tmp_path / "data.csv",
        [["unit_id", "year", "indicator_id", "value"]]
        + [[u, "2024", n, str(v)] for u, leaves in VALUES.items() for n, v in leaves.items()],
    )


def test_cli_weight_sets_printed_and_written(tmp_path):
    # file mode scores with min-max (observed): the nominal DTI is run 3's above (D 1, B 2,
    # C 3, A 4); "equal pillars" gives P1 × 1.25 and P2 × 5/6 of those pillar points:
    #   A 40 × 1.25 + 0 = 50 → 3; B 0 + 60 × 5/6 = 50 → 3 (tied, 50.000000 both);
    #   C 31.667 × 1.25 + 20 × 5/6 = 56.25 → 2; D 26.667 × 1.25 + 40 × 5/6 = 66.667 → 1
    # shifts: A 4 − 3 = +1, B 2 − 3 = −1, C 3 − 2 = +1, D 1 − 1 = 0
    sets = _write(tmp_path / "sets.csv", SETS[:3])
    files = ["--framework", str(TINY_FRAMEWORK), "--data", str(_data_file(tmp_path))]
    result = CliRunner().invoke(
        cli, ["uncertainty", *files, "--weights-sets", str(sets), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 0, result.output
    assert "equal pillars" in result.output
    written = pl.read_csv(tmp_path / "o" / "weight_sets.csv").sort("unit_id")
    assert written["rank"].to_list() == [3, 3, 2, 1]
    assert written["rank_shift"].to_list() == [1, -1, 1, 0]
    assert written["points"].to_list() == pytest.approx([50, 50, 56.25, 200 / 3])
    bad = _write(tmp_path / "bad.csv", [*SETS[:3], ["equal pillars", "DTI", "1"]])
    refused = CliRunner().invoke(cli, ["uncertainty", *files, "--weights-sets", str(bad)])
    assert refused.exit_code == 2
    assert refused.stderr.count("\n") == 1 and "bad.csv · dòng 4 · cột B (node_id): 'DTI'" in (
        refused.stderr
    )


def test_cli_refuses_a_column_that_is_no_node_in_one_line(tmp_path):
    data = _data_file(tmp_path)
    bad = _write(tmp_path / "p.csv", [["setting", "missing", "P9"], ["points", "zero", "1"]])
    files = ["--framework", str(TINY_FRAMEWORK), "--data", str(data)]
    result = CliRunner().invoke(cli, ["uncertainty", *files, "--parameters", str(bad)])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "p.csv · dòng 1 · cột C (P9): cột 'P9'" in lines[0]
    assert "Traceback" not in result.output


# ---------------------------------------------------------------- the round trip on ASEM


def test_a_run_written_as_parameters_replays_to_identical_ranks(tmp_path):
    inp = from_files(ASEM / "iMeta.csv", ASEM / "raw_iData_full.csv")
    run = run_uncertainty(inp, replications=100, noise_levels=["2", "3"], seed=11)
    path = tmp_path / "parameters.csv"
    parameters_of_run(run, inp.framework).frame().write_csv(path)
    replayed = replay_parameters(inp, read_parameters(path, inp.framework))
    assert replayed.unit_ids == run.unit_ids
    assert np.array_equal(replayed.ranks, run.ranks)  # every run, every unit
    assert np.array_equal(replayed.totals, run.totals)  # to the bit
    assert replayed.units.equals(run.units)  # median, p05, p95 …


def test_cli_round_trip_out_then_parameters(tmp_path):
    files = ["--framework", str(ASEM / "iMeta.csv"), "--data", str(ASEM / "raw_iData_full.csv")]
    runner = CliRunner()
    first = runner.invoke(
        cli, ["uncertainty", *files, "--replications", "50", "--out", str(tmp_path / "run")]
    )
    assert first.exit_code == 0, first.output
    parameters = tmp_path / "run" / "parameters.csv"
    again = runner.invoke(
        cli,
        ["uncertainty", *files, "--parameters", str(parameters), "--out", str(tmp_path / "replay")],
    )
    assert again.exit_code == 0, again.output
    original = pl.read_csv(tmp_path / "run" / "rank_uncertainty.csv")
    replayed = pl.read_csv(tmp_path / "replay" / "rank_uncertainty.csv")
    assert replayed.equals(original)
    scores = pl.read_parquet(tmp_path / "replay" / "replay_scores.parquet")
    runs = pl.read_csv(parameters).height  # Saltelli: N(d + 2) = 10 × (3 + 2)
    assert runs == 50
    nodes = len(from_files(ASEM / "iMeta.csv", ASEM / "raw_iData_full.csv").framework.nodes)
    assert scores.height == runs * nodes * 51
