"""The figures of a comparison group and a level: totals by class, pillars stacked, components as
a heat map, classes, spread by group, and how ranks move across methods."""

from __future__ import annotations

import polars as pl

from pipelines.report.chart_style import (
    METHOD_COLOURS,
    SERIES,
    Figure,
    class_colours,
    figure_layout,
)
from pipelines.report.contents import (
    UNCLASSIFIED_COLOUR,
    UNCLASSIFIED_LABEL,
    FrameworkInfo,
    LevelData,
)
from pipelines.scoring.choices import METHODS
from pipelines.text.labels import METHOD_SHORT_NAMES, vn_number, vn_value


def bar_totals(totals: pl.DataFrame, framework: FrameworkInfo, title: str) -> Figure:
    """Horizontal bars of the total points, best at the top, coloured by class (grey when the
    framework sets no classes)."""
    rows = totals.sort("points", "unit_name", descending=[False, True])
    labels = [label or UNCLASSIFIED_LABEL for label in rows["class_label"]]
    scale = framework.scale
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "x": rows["points"].to_list(),
                "y": rows["unit_name"].to_list(),
                "marker": {"color": class_colours(rows, framework)},
                "customdata": [
                    [rank, label, ratio]
                    for rank, label, ratio in zip(rows["rank"], labels, rows["ratio"], strict=True)
                ],
                "text": rows["points"].to_list(),
                "texttemplate": "%{text:,.2f}",
                "textposition": "outside",
                "cliponaxis": False,
                "hovertemplate": "<b>%{y}</b><br>Tổng điểm: %{x:,.2f}/"
                + vn_number(scale, 0)
                + "<br>Chỉ số: %{customdata[2]:,.4f}<br>Hạng: %{customdata[0]}"
                + ("<br>Xếp loại: %{customdata[1]}" if framework.classified else "")
                + "<extra></extra>",
                "name": "Tổng điểm",
            }
        ],
        "layout": figure_layout(
            title,
            height=max(260, 60 + 24 * rows.height),
            xaxis={"title": {"text": "Tổng điểm"}, "range": [0, scale * 1.08], "gridcolor": "#eee"},
            yaxis={"automargin": True},
            margin={"l": 10, "r": 30, "t": 50, "b": 50},
            showlegend=False,
        ),
    }


def stacked_pillars(
    level: LevelData, pillars: pl.DataFrame, totals: pl.DataFrame, title: str
) -> Figure:
    """Each unit's total as the sum of its pillar points (units in rank order)."""
    order = totals.sort("points", "unit_name", descending=[False, True])
    names = dict(zip(order["unit_id"], order["unit_name"], strict=True))
    points = {(u, n): p for u, n, p in pillars.select("unit_id", "node_id", "points").iter_rows()}
    traces = []
    for i, node in enumerate(level.pillar_nodes.iter_rows(named=True)):
        traces.append(
            {
                "type": "bar",
                "orientation": "h",
                "name": f"{node['name']} (tối đa {vn_value(node['max_points'])})",
                "x": [points.get((u, node["node_id"]), 0.0) for u in order["unit_id"]],
                "y": [names[u] for u in order["unit_id"]],
                "marker": {"color": SERIES[i % len(SERIES)]},
                "hovertemplate": f"<b>%{{y}}</b><br>{node['name']}: %{{x:,.2f}}"
                f"/{vn_value(node['max_points'])}<extra></extra>",
            }
        )
    return {
        "data": traces,
        "layout": figure_layout(
            title,
            height=max(300, 110 + 24 * order.height),
            barmode="stack",
            xaxis={"title": {"text": "Điểm"}, "gridcolor": "#eee"},
            yaxis={"automargin": True},
            legend={
                "orientation": "h",
                "y": -0.12,
                "x": 0,
                "yanchor": "top",
                "traceorder": "normal",
            },
            margin={"l": 10, "r": 20, "t": 50, "b": 130},
        ),
    }


def heatmap_components(
    level: LevelData, components: pl.DataFrame, totals: pl.DataFrame, title: str
) -> Figure:
    """Units × components, coloured by the share of the component's maximum achieved."""
    order = totals.sort("rank", "unit_name")
    nodes = level.component_nodes
    ids = nodes["node_id"].to_list()
    lookup = {(u, n): r for u, n, r in components.select("unit_id", "node_id", "ratio").iter_rows()}
    z = [[lookup.get((u, n)) for n in ids] for u in order["unit_id"]]
    node_names = nodes["name"].to_list()
    hover = [[f"{name}" for name in node_names] for _ in order["unit_id"]]
    return {
        "data": [
            {
                "type": "heatmap",
                "z": z,
                "x": ids,
                "y": order["unit_name"].to_list(),
                "customdata": hover,
                "zmin": 0,
                "zmax": 1,
                "colorscale": "RdYlGn",
                "colorbar": {"title": {"text": "Tỷ lệ đạt"}, "tickformat": ".0%"},
                "hovertemplate": "<b>%{y}</b><br>%{x}: %{customdata}<br>"
                "Đạt %{z:.1%} điểm tối đa<extra></extra>",
                "xgap": 1,
                "ygap": 1,
            }
        ],
        "layout": figure_layout(
            title,
            height=max(300, 120 + 22 * order.height),
            xaxis={"tickangle": -60, "tickfont": {"size": 10}, "side": "bottom"},
            yaxis={"automargin": True, "autorange": "reversed"},
            margin={"l": 10, "r": 20, "t": 50, "b": 80},
        ),
    }


def class_distribution(rows: pl.DataFrame, bands: list[tuple[str, str]], title: str) -> Figure:
    """Number of units per class and level (stacked)."""
    traces = []
    for label, colour in [*bands, (UNCLASSIFIED_LABEL, UNCLASSIFIED_COLOUR)]:
        part = rows.filter(pl.col("class") == label)
        if part.is_empty():
            continue
        traces.append(
            {
                "type": "bar",
                "name": label,
                "x": part["label"].to_list(),
                "y": part["n"].to_list(),
                "text": part["n"].to_list(),
                "textposition": "inside",
                "marker": {"color": colour},
                "hovertemplate": "%{x}<br>" + label + ": %{y} đơn vị<extra></extra>",
            }
        )
    return {
        "data": traces,
        "layout": figure_layout(
            title,
            height=360,
            barmode="stack",
            yaxis={"title": {"text": "Số đơn vị"}, "gridcolor": "#eee"},
            legend={"orientation": "h", "y": -0.15, "traceorder": "normal"},
        ),
    }


def box_by_group(totals: pl.DataFrame, group_names: dict[str, str], title: str) -> Figure:
    """Distribution of the totals in each comparison group (communes by district)."""
    traces = []
    for group_id, name in sorted(group_names.items(), key=lambda kv: kv[1]):
        part = totals.filter(pl.col("group_id") == group_id)
        traces.append(
            {
                "type": "box",
                "name": name,
                "y": part["points"].to_list(),
                "text": part["unit_name"].to_list(),
                "boxpoints": "all",
                "jitter": 0.4,
                "pointpos": 0,
                "marker": {"color": "#1565c0", "size": 5},
                "line": {"color": "#37474f"},
                "hovertemplate": "<b>%{text}</b><br>%{y:,.2f} điểm<extra>" + name + "</extra>",
            }
        )
    return {
        "data": traces,
        "layout": figure_layout(
            title,
            height=460,
            showlegend=False,
            yaxis={"title": {"text": "Tổng điểm"}, "gridcolor": "#eee"},
            xaxis={"tickangle": -30, "automargin": True},
        ),
    }


def method_ranks(methods: pl.DataFrame, names: dict[str, str], primary: str, title: str) -> Figure:
    """Each unit's rank under every method (one marker per method, units in primary order)."""
    primary_rows = methods.filter(pl.col("method") == primary).sort("rank", descending=True)
    order = primary_rows["unit_id"].to_list()
    traces = []
    for method in METHODS:
        part = methods.filter(pl.col("method") == method)
        if part.is_empty():
            continue
        rank = dict(zip(part["unit_id"], part["rank"], strict=True))
        points = dict(zip(part["unit_id"], part["points"], strict=True))
        traces.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": METHOD_SHORT_NAMES[method] + (" (chính)" if method == primary else ""),
                "x": [rank.get(u) for u in order],
                "y": [names.get(u, u) for u in order],
                "customdata": [points.get(u) for u in order],
                "marker": {
                    "color": METHOD_COLOURS[method],
                    "size": 11 if method == primary else 9,
                    "symbol": {"points": "square", "minmax": "circle", "zscore": "diamond"}[method],
                    "opacity": 0.85,
                },
                "hovertemplate": "<b>%{y}</b><br>"
                + METHOD_SHORT_NAMES[method]
                + ": hạng %{x} (%{customdata:,.2f} điểm)<extra></extra>",
            }
        )
    return {
        "data": traces,
        "layout": figure_layout(
            title,
            height=max(280, 90 + 24 * len(order)),
            xaxis={
                "title": {"text": "Hạng (1 = cao nhất)"},
                "dtick": 1 if len(order) <= 25 else 5,
                "gridcolor": "#eee",
                "rangemode": "tozero",
            },
            yaxis={"automargin": True},
            legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
            margin={"l": 10, "r": 20, "t": 80, "b": 50},
        ),
    }


def rank_spread(
    rows: pl.DataFrame, names: dict[str, str], title: str, x_title: str, interval_label: str
) -> Figure:
    """Nominal rank with an interval (p05–p95 of a simulation, or the range across methods).

    ``rows``: unit_id, nominal_rank, low, high, middle."""
    rows = rows.sort("nominal_rank", descending=True)
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "markers",
                "name": "Hạng công bố",
                "x": rows["nominal_rank"].to_list(),
                "y": [names.get(u, u) for u in rows["unit_id"]],
                "customdata": [
                    [lo, hi, mid]
                    for lo, hi, mid in zip(rows["low"], rows["high"], rows["middle"], strict=True)
                ],
                "error_x": {
                    "type": "data",
                    "symmetric": False,
                    "array": (rows["high"] - rows["nominal_rank"]).to_list(),
                    "arrayminus": (rows["nominal_rank"] - rows["low"]).to_list(),
                    "color": "#607d8b",
                    "thickness": 2,
                    "width": 4,
                },
                "marker": {"color": "#1565c0", "size": 9},
                "hovertemplate": "<b>%{y}</b><br>Hạng công bố: %{x}<br>"
                + interval_label
                + ": %{customdata[0]}–%{customdata[1]}<extra></extra>",
            }
        ],
        "layout": figure_layout(
            title,
            height=max(280, 80 + 24 * rows.height),
            xaxis={"title": {"text": x_title}, "gridcolor": "#eee", "rangemode": "tozero"},
            yaxis={"automargin": True},
            showlegend=False,
            margin={"l": 10, "r": 20, "t": 50, "b": 60},
        ),
    }
