"""The leaf stage's arrays (pipelines/scoring/leaf_arrays.py, grid.py): how values are placed on
the grid, how notes are written once per distinct text, and how a stored leaf frame is read back
into the same arrays."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scoring_fixtures import build, leaf, node, units, values

from pipelines.scoring.engine import score_leaves
from pipelines.scoring.grid import complete_grid
from pipelines.scoring.leaf_arrays import LEAF_COLUMNS, Notes, read_leaves
from pipelines.scoring.methods import MethodSpec


def two_pillars():
    return build(node("P1", leaf("A", 10), leaf("B", 5)), node("P2", leaf("C", 20)))


def test_a_value_listed_twice_counts_once_the_last_one():
    fw = two_pillars()
    vals = values(("U1", "A", 1), ("U1", "A", 7), ("U1", "B", None), ("U1", "B", 3))
    grid = complete_grid(vals, units("U1"), fw)
    assert grid.value[0].tolist()[:2] == [7.0, 3.0]
    assert grid.reported.tolist() == [[True, True, False]]


def test_a_unit_listed_in_two_groups_has_a_row_in_each():
    fw = two_pillars()
    grid = complete_grid(values(("U1", "A", 4)), units(("U1", "g2"), ("U1", "g1")), fw)
    assert grid.units["group_id"].to_list() == ["g1", "g2"]
    assert grid.value[:, 0].tolist() == [4.0, 4.0]
    assert grid.starts.tolist() == [0, 1]


def test_notes_are_written_once_per_distinct_text():
    notes = Notes((2, 3))
    cells = np.array([[True, False, True], [False, True, True]])
    group = np.array([5, 5, 9, 5])  # the keys of the four cells, in mask order
    asked: list[int] = []

    def text(first: np.ndarray) -> list[str]:
        asked.extend(first.tolist())
        return [f"group {group[i]}" for i in first]

    notes.put(cells, [group], text)
    assert sorted(asked) == [0, 2]  # one cell per distinct key
    notes.prefixed(np.array([[True, False, False], [False, False, True]]), "why")
    assert notes.series().to_list() == [
        "why → group 5", None, "group 5",
        None, "group 9", "why → group 5",
    ]  # fmt: skip
    assert notes.texts == ["group 5", "group 9", "why → group 5"]


def test_a_stored_leaf_frame_reads_back_into_the_same_arrays():
    fw = two_pillars()
    vals = values(("U1", "A", 2), ("U2", "A", 6), ("U2", "C", 1), ("U3", "B", 4))
    spec = MethodSpec("minmax", missing="exclude")
    state = score_leaves(complete_grid(vals, units("U1", "U2", "U3"), fw), units(), fw, spec)
    stored = state.frame()
    assert stored.columns == LEAF_COLUMNS
    for frame in (stored, stored.sample(fraction=1.0, shuffle=True, seed=3)):
        back = read_leaves(frame, fw)
        assert back.grid.units.equals(state.grid.units)
        for name in ("points", "normalised", "z"):
            assert np.array_equal(getattr(back, name), getattr(state, name), equal_nan=True)
        assert np.array_equal(back.excluded, state.excluded)
        assert np.array_equal(back.n_missing, state.n_missing)
        assert back.notes.series().to_list() == state.notes.series().to_list()
    # U1's A: the lowest of the group → 0 points; U1's C: no value → left out
    assert state.points[0, 0] == 0.0 and state.excluded[0, 2]
    assert stored.filter((pl.col("unit_id") == "U1") & (pl.col("node_id") == "C"))[
        "rule_applied"
    ].to_list() == ["missing.exclude: no value → left out, siblings re-weighted"]


def test_a_stored_leaf_frame_missing_a_leaf_is_refused():
    fw = two_pillars()
    state = score_leaves(complete_grid(values(), units("U1", "U2"), fw), units(), fw, MethodSpec())
    with pytest.raises(ValueError, match="one row per unit and leaf"):
        read_leaves(state.frame().slice(1), fw)
