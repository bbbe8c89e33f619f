"""Plain Python rows from frames: what a page or a receipt is rendered from (a few dozen rows
each, where dicts are quicker than frames of that size and can cross into a forked worker)."""

from __future__ import annotations

from typing import Any

import polars as pl

Row = dict[str, Any]


def rows_by(frame: pl.DataFrame, key: str) -> dict[Any, list[Row]]:
    """The rows of ``frame`` as dicts, per value of ``key``, each list in the frame's order."""
    out: dict[Any, list[Row]] = {}
    for row in frame.iter_rows(named=True):
        out.setdefault(row[key], []).append(row)
    return out
