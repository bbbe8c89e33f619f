"""The units whose class differs between the two readings of the bands (Huế 3043: the total
alone, or the total and every pillar at the same ratio; ``docs/scoring.md``)."""

from __future__ import annotations

import polars as pl

from pipelines.report.contents import Band
from pipelines.report.data import classify
from pipelines.text.labels import UNCLASSIFIED


def reading_differences(
    totals: pl.DataFrame, pillars: pl.DataFrame, bands: list[Band], reading: str | None
) -> list[dict[str, str]]:
    """Per unit whose class under ``total_only`` differs from its class under
    ``total_and_pillars`` (rule of :func:`pipelines.report.data.classify`): its name
    (``unit_name``, else ``unit_id``) and both classes (``Không xếp loại`` below every band), in
    unit order. ``totals``: ``unit_id, ratio`` (and ``unit_name``); ``pillars``: ``unit_id,
    ratio``. Empty unless the reading used is ``total_and_pillars`` (a decision with a per-pillar
    table) and every band has its ratio."""
    if reading != "total_and_pillars" or not bands or any(b.min_ratio is None for b in bands):
        return []
    pillar_ratios = {
        unit: part["ratio"].to_list()
        for (unit,), part in pillars.partition_by("unit_id", as_dict=True).items()
    }
    rows = []
    for r in totals.sort("unit_id").iter_rows(named=True):
        own = pillar_ratios.get(r["unit_id"], [])
        by_total = classify(r["ratio"], own, bands, "total_only")
        by_table = classify(r["ratio"], own, bands, "total_and_pillars")
        if by_total != by_table:
            rows.append(
                {
                    "name": r.get("unit_name") or r["unit_id"],
                    "total_only": by_total or UNCLASSIFIED,
                    "total_and_pillars": by_table or UNCLASSIFIED,
                }
            )
    return rows
