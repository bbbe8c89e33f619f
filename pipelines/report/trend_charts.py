"""The figures across years: a group's units and a level's mean with its range."""

from __future__ import annotations

import polars as pl

from pipelines.report.chart_style import SERIES, Figure, figure_layout


def group_trends(history: pl.DataFrame, title: str, y: str = "points") -> Figure:
    """Total points of every unit of a group across the years (one line per unit)."""
    traces = []
    # Sorted once: a partition keeps the rows' order (a sort per unit cost more than the chart).
    by_year = history.sort("year", maintain_order=True)
    for i, (unit_name, part) in enumerate(
        sorted(by_year.partition_by("unit_name", as_dict=True).items(), key=lambda kv: kv[0][0])
    ):
        traces.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": unit_name[0],
                "x": [str(v) for v in part["year"]],
                "y": part[y].to_list(),
                "customdata": part["rank"].to_list(),
                "line": {"color": SERIES[i % len(SERIES)], "width": 1.5},
                "hovertemplate": "<b>" + unit_name[0] + "</b><br>Năm %{x}: %{y:,.2f} điểm"
                "<br>Hạng %{customdata}<extra></extra>",
            }
        )
    return {
        "data": traces,
        "layout": figure_layout(
            title,
            height=420,
            xaxis={"type": "category", "title": {"text": "Năm"}},
            yaxis={"title": {"text": "Tổng điểm"}, "gridcolor": "#eee"},
            legend={"font": {"size": 10}},
        ),
    }


def level_trends(rows: pl.DataFrame, title: str) -> Figure:
    """Mean DTI ratio per level across the years, with the best and worst unit as a band."""
    traces = []
    for i, (label, part) in enumerate(
        rows.partition_by("label", as_dict=True, maintain_order=True).items()
    ):
        part = part.sort("year")
        years = [str(v) for v in part["year"]]
        colour = SERIES[i % len(SERIES)]
        traces.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": f"{label[0]} – trung bình",
                "x": years,
                "y": part["mean_ratio"].to_list(),
                "customdata": [
                    [lo, hi, n]
                    for lo, hi, n in zip(
                        part["min_ratio"], part["max_ratio"], part["n_units"], strict=True
                    )
                ],
                "error_y": {
                    "type": "data",
                    "symmetric": False,
                    "array": (part["max_ratio"] - part["mean_ratio"]).to_list(),
                    "arrayminus": (part["mean_ratio"] - part["min_ratio"]).to_list(),
                    "color": colour,
                    "thickness": 1,
                },
                "line": {"color": colour},
                "hovertemplate": f"<b>{label[0]}</b><br>Năm %{{x}}: trung bình %{{y:,.4f}}"
                "<br>thấp nhất %{customdata[0]:,.4f} – cao nhất %{customdata[1]:,.4f}"
                "<br>%{customdata[2]} đơn vị<extra></extra>",
            }
        )
    return {
        "data": traces,
        "layout": figure_layout(
            title,
            height=400,
            xaxis={"type": "category"},
            yaxis={"title": {"text": "Chỉ số DTI"}, "range": [0, 1], "gridcolor": "#eee"},
            legend={"orientation": "h", "y": -0.12, "yanchor": "top"},
            margin={"l": 60, "r": 20, "t": 50, "b": 90},
        ),
    }
