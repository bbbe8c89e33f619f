"""What every figure of the report shares (fonts, colours, layout, label wrapping).

The figures (:mod:`~pipelines.report.group_charts`, :mod:`~pipelines.report.unit_charts`,
:mod:`~pipelines.report.trend_charts`) are Plotly figures as plain
``{"data": [...], "layout": {...}}`` dicts.

Built as dicts (not ``go.Figure``) because a year has hundreds of scorecards and validating each
figure costs more than writing the whole page; ``tests/test_report.py`` checks every kind of
figure against ``plotly.graph_objects.Figure`` so a typo cannot slip through. Numbers follow the
Vietnamese format through ``layout.separators`` (decimal comma, thousands dot) and d3 formats.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from pipelines.report.contents import FrameworkInfo

Figure = dict[str, Any]

FONT = "Segoe UI, Roboto, 'Noto Sans', 'DejaVu Sans', Arial, sans-serif"
METHOD_COLOURS = {"points": "#6d4c41", "minmax": "#1565c0", "zscore": "#2e7d32"}
SERIES = ("#1565c0", "#c62828", "#2e7d32", "#f9a825", "#6a1b9a", "#00838f", "#ef6c00", "#5d4037")


def figure_layout(title: str, height: int = 420, **extra: Any) -> dict[str, Any]:
    """A figure's layout: its title, Vietnamese number separators, the report's font."""
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


def wrap_label(text: str, width: int = 28) -> str:
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
    """The colour of each row's class, in row order."""
    return [framework.colour_of(label) for label in totals["class_label"]]
