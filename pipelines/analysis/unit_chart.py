"""A horizontal bar per unit for the analysts' notebooks: keyed by unit id, labelled by name.

Two units may share a name (Đắk Lắk has two communes called "Phường Thống Nhất"): a chart keyed
by name would stack them into one bar above the maximum. Each bar is one unit id; its label is
the unit's name, with the id added where names repeat."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

BAR_HEIGHT = 18  # pixels per unit, so 184 communes are not squeezed into a fixed height


def unit_labels(totals: pl.DataFrame) -> list[str]:
    """Each row's label: the unit's name, ``"name (id)"`` where another unit has that name."""
    repeated = {n for n, c in totals["unit_name"].value_counts().iter_rows() if c > 1}
    return [
        f"{name} ({unit})" if name in repeated else name
        for unit, name in totals.select("unit_id", "unit_name").iter_rows()
    ]


def unit_bars(totals: pl.DataFrame, title: str, value: str = "points") -> go.Figure:
    """One bar per row of ``totals`` (``unit_id``, ``unit_name``, ``value``), in row order from
    the top, keyed by unit id and labelled by name."""
    ids = totals["unit_id"].to_list()
    figure = go.Figure(
        go.Bar(
            x=totals[value].to_list(),
            y=ids,
            orientation="h",
            customdata=totals["unit_name"].to_list(),
            hovertemplate="%{customdata} (%{y}): %{x}<extra></extra>",
        )
    )
    figure.update_yaxes(
        type="category",
        categoryorder="array",
        categoryarray=ids[::-1],
        tickmode="array",
        tickvals=ids,
        ticktext=unit_labels(totals),
    )
    figure.update_layout(
        title=title, xaxis_title=value, height=max(300, 120 + BAR_HEIGHT * len(ids))
    )
    return figure
