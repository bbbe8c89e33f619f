"""The figures of one unit's scorecard: its pillars against the group (radar or bars), the gaps
of its components, and its history."""

from __future__ import annotations

from typing import Any

from pipelines.report.chart_style import Figure, figure_layout, wrap_label


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
    theta = [wrap_label(n, 18) for n in pillar_names]
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
        "layout": figure_layout(
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
        "layout": figure_layout(
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
        "layout": figure_layout(
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
        "layout": figure_layout(
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
