"""The notebooks' unit chart: one bar per unit id, labelled by name (names may repeat)."""

from __future__ import annotations

import polars as pl

from pipelines.analysis.unit_chart import unit_bars, unit_labels

TOTALS = pl.DataFrame(
    {
        "unit_id": ["X-BMT-07", "X-BMT-02", "X-BH-11"],
        "unit_name": ["Phường Thống Nhất", "Phường Tân Lợi", "Phường Thống Nhất"],
        "points": [812.5, 640.0, 598.25],
    }
)


def test_two_units_with_one_name_are_two_bars():
    figure = unit_bars(TOTALS, "DTI 2024")
    [bars] = figure.data
    assert list(bars.y) == ["X-BMT-07", "X-BMT-02", "X-BH-11"]
    assert list(bars.x) == [812.5, 640.0, 598.25]  # neither Thống Nhất above the 1,000 maximum
    assert list(figure.layout.yaxis.ticktext) == [
        "Phường Thống Nhất (X-BMT-07)",
        "Phường Tân Lợi",
        "Phường Thống Nhất (X-BH-11)",
    ]
    # the first row is drawn at the top
    assert list(figure.layout.yaxis.categoryarray) == ["X-BH-11", "X-BMT-02", "X-BMT-07"]


def test_labels_are_plain_names_when_they_do_not_repeat():
    assert unit_labels(TOTALS.filter(pl.col("unit_id") != "X-BH-11")) == [
        "Phường Thống Nhất",
        "Phường Tân Lợi",
    ]


def test_height_grows_with_the_number_of_units():
    many = pl.DataFrame(
        {
            "unit_id": [f"X-{i:03d}" for i in range(184)],
            "unit_name": [f"Xã {i}" for i in range(184)],
            "points": [float(i) for i in range(184)],
        }
    )
    assert unit_bars(many, "t").layout.height == 120 + 18 * 184
    assert unit_bars(TOTALS, "t").layout.height == 300
