"""Plotly figures of the report, as plain ``{"data": [...], "layout": {...}}`` dicts.

Built as dicts (not ``go.Figure``) because a year has hundreds of scorecards and validating each
figure costs more than writing the whole page; ``tests/test_report.py`` checks every kind of
figure against ``plotly.graph_objects.Figure`` so a typo cannot slip through. Numbers follow the
Vietnamese format through ``layout.separators`` (decimal comma, thousands dot) and d3 formats.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from pipelines.report.data import (
    UNCLASSIFIED_COLOUR,
    UNCLASSIFIED_LABEL,
    FrameworkInfo,
    LevelData,
)
from pipelines.scoring.choices import METHODS
from pipelines.text.labels import METHOD_SHORT_NAMES, vn_number, vn_value

Figure = dict[str, Any]

FONT = "Segoe UI, Roboto, 'Noto Sans', 'DejaVu Sans', Arial, sans-serif"
METHOD_COLOURS = {"points": "#6d4c41", "minmax": "#1565c0", "zscore": "#2e7d32"}
SERIES = ("#1565c0", "#c62828", "#2e7d32", "#f9a825", "#6a1b9a", "#00838f", "#ef6c00", "#5d4037")


def _layout(title: str, height: int = 420, **extra: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "title": {"text": title, "x": 0, "xanchor": "left", "font": {"size": 15}},
        "height": height,
        "separators": ",.",  # Vietnamese: 1.234,56
        "font": {"family": FONT, "size": 12},
        "margin": {"l": 60, "r": 20, "t": 50, "b": 50},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "hoverlabel": {"font": {"family": FONT}},
    }
    layout.update(extra)
    return layout


def _wrap(text: str, width: int = 28) -> str:
    """Break a long label into lines for axis ticks (plotly does not wrap)."""
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    return "<br>".join(lines)


def class_colours(totals: pl.DataFrame, framework: FrameworkInfo) -> list[str]:
    return [framework.colour_of(label) for label in totals["class_label"]]


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
        "layout": _layout(
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
        "layout": _layout(
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
        "layout": _layout(
            title,
            height=max(300, 120 + 22 * order.height),
            xaxis={"tickangle": -60, "tickfont": {"size": 10}, "side": "bottom"},
            yaxis={"automargin": True, "autorange": "reversed"},
            margin={"l": 10, "r": 20, "t": 50, "b": 80},
        ),
    }


def radar(
    unit_name: str,
    pillar_names: list[str],
    unit_ratios: list[float | None],
    group_ratios: list[float | None],
    group_label: str,
) -> Figure:
    """A unit's pillar ratios against its group's average (grouped bars below 3 pillars, where
    a radar would be a line)."""
    if len(pillar_names) < 3:
        return _pillar_bars(unit_name, pillar_names, unit_ratios, group_ratios, group_label)
    theta = [_wrap(n, 18) for n in pillar_names]
    close = lambda xs: [*xs, xs[0]] if xs else xs  # noqa: E731 - close the polygon
    return {
        "data": [
            {
                "type": "scatterpolar",
                "r": close(group_ratios),
                "theta": close(theta),
                "name": f"Trung bình {group_label}",
                "line": {"color": "#9e9e9e", "dash": "dash"},
                "fill": "toself",
                "fillcolor": "rgba(158,158,158,0.15)",
                "hovertemplate": "%{theta}: %{r:.1%}<extra>Trung bình nhóm</extra>",
            },
            {
                "type": "scatterpolar",
                "r": close(unit_ratios),
                "theta": close(theta),
                "name": unit_name,
                "line": {"color": "#1565c0"},
                "fill": "toself",
                "fillcolor": "rgba(21,101,192,0.2)",
                "hovertemplate": "%{theta}: %{r:.1%}<extra>" + unit_name + "</extra>",
            },
        ],
        "layout": _layout(
            "Các chỉ số chính so với trung bình nhóm (tỷ lệ đạt)",
            height=440,
            polar={
                "radialaxis": {
                    "range": [0, 1],
                    "tickformat": ".0%",
                    "angle": 90,
                    "tickangle": 90,
                    "tickfont": {"size": 9},
                    "dtick": 0.25,
                },
                "angularaxis": {"direction": "clockwise", "rotation": 90},
            },
            legend={"orientation": "h", "y": -0.1},
            margin={"l": 70, "r": 70, "t": 60, "b": 40},
        ),
    }


def _pillar_bars(
    unit_name: str,
    pillar_names: list[str],
    unit_ratios: list[float | None],
    group_ratios: list[float | None],
    group_label: str,
) -> Figure:
    return {
        "data": [
            {
                "type": "bar",
                "name": f"Trung bình {group_label}",
                "x": pillar_names,
                "y": group_ratios,
                "marker": {"color": "#9e9e9e"},
                "hovertemplate": "%{x}: %{y:.1%}<extra>Trung bình nhóm</extra>",
            },
            {
                "type": "bar",
                "name": unit_name,
                "x": pillar_names,
                "y": unit_ratios,
                "marker": {"color": "#1565c0"},
                "hovertemplate": "%{x}: %{y:.1%}<extra>" + unit_name + "</extra>",
            },
        ],
        "layout": _layout(
            "Các chỉ số chính so với trung bình nhóm (tỷ lệ đạt)",
            height=440,
            barmode="group",
            yaxis={"range": [0, 1], "tickformat": ".0%", "gridcolor": "#eee"},
            legend={"orientation": "h", "y": -0.15},
        ),
    }


def component_gaps(unit_name: str, rows: list[dict[str, Any]]) -> Figure:
    """Every component's ratio minus the group's mean ratio (strengths right, weaknesses left).

    ``rows``: the unit's components (``data.component_gaps``), as dicts."""
    ordered = sorted(rows, key=lambda r: r["ordinal"], reverse=True)
    gaps = [r["gap"] for r in ordered]
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "x": gaps,
                "y": [r["node_id"] for r in ordered],
                "customdata": [[r["name"], r["ratio"], r["group_mean"]] for r in ordered],
                "marker": {"color": ["#2e7d32" if g >= 0 else "#c62828" for g in gaps]},
                "hovertemplate": "<b>%{y}</b> %{customdata[0]}<br>Đơn vị: %{customdata[1]:.1%}"
                "<br>Trung bình nhóm: %{customdata[2]:.1%}<br>Chênh lệch: %{x:+.1%}"
                "<extra></extra>",
            }
        ],
        "layout": _layout(
            f"Chênh lệch so với trung bình nhóm theo chỉ số thành phần – {unit_name}",
            height=max(300, 80 + 16 * len(ordered)),
            xaxis={
                "tickformat": "+.0%",
                "zeroline": True,
                "zerolinecolor": "#555",
                "gridcolor": "#eee",
                "title": {"text": "Tỷ lệ đạt của đơn vị − trung bình nhóm"},
            },
            yaxis={"tickfont": {"size": 10}, "automargin": True},
            showlegend=False,
            margin={"l": 10, "r": 20, "t": 50, "b": 50},
        ),
    }


def unit_history(unit_name: str, rows: list[dict[str, Any]]) -> Figure:
    """A unit's total and rank over the years (rank on a reversed second axis).

    ``rows``: the unit's rows of ``YearData.history``, as dicts."""
    rows = sorted(rows, key=lambda r: r["year"])
    years = [str(r["year"]) for r in rows]
    points = [r["points"] for r in rows]
    ranks = [r["rank"] for r in rows]
    sizes = [r["group_size"] for r in rows]
    size = max(sizes or [1])
    top = max(points or [1.0])
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "lines+markers+text",
                "x": years,
                "y": points,
                "name": "Tổng điểm",
                "text": points,
                "texttemplate": "%{text:,.2f}",
                "textposition": "top center",
                "line": {"color": "#1565c0"},
                "hovertemplate": "Năm %{x}: %{y:,.2f} điểm<extra></extra>",
            },
            {
                "type": "scatter",
                "mode": "lines+markers",
                "x": years,
                "y": ranks,
                "customdata": sizes,
                "name": "Hạng (trục phải)",
                "yaxis": "y2",
                "line": {"color": "#ef6c00", "dash": "dot"},
                "hovertemplate": "Năm %{x}: hạng %{y}/%{customdata}<extra></extra>",
            },
        ],
        "layout": _layout(
            f"Diễn biến qua các năm – {unit_name}",
            height=340,
            xaxis={"type": "category", "title": {"text": "Năm"}},
            yaxis={"title": {"text": "Tổng điểm"}, "range": [0, top * 1.18], "gridcolor": "#eee"},
            # rank 1 at the top, the whole group's range so one place looks like one place
            yaxis2={
                "title": {"text": f"Hạng (trên {size})"},
                "overlaying": "y",
                "side": "right",
                "range": [size + 0.5, 0.5],
                "dtick": 1 if size <= 20 else 5,
                "showgrid": False,
                "zeroline": False,
            },
            legend={"orientation": "h", "y": -0.25},
            margin={"l": 60, "r": 60, "t": 50, "b": 70},
        ),
    }


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
        "layout": _layout(
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
        "layout": _layout(
            title,
            height=400,
            xaxis={"type": "category"},
            yaxis={"title": {"text": "Chỉ số DTI"}, "range": [0, 1], "gridcolor": "#eee"},
            legend={"orientation": "h", "y": -0.12, "yanchor": "top"},
            margin={"l": 60, "r": 20, "t": 50, "b": 90},
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
        "layout": _layout(
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
        "layout": _layout(
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
        "layout": _layout(
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
        "layout": _layout(
            title,
            height=max(280, 80 + 24 * rows.height),
            xaxis={"title": {"text": x_title}, "gridcolor": "#eee", "rangemode": "tozero"},
            yaxis={"automargin": True},
            showlegend=False,
            margin={"l": 10, "r": 20, "t": 50, "b": 60},
        ),
    }
