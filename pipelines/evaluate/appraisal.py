"""Appraisal (*thẩm định*): the differences report, and the appraiser's points overrides.

The appraiser adjusts, per unit and indicator and always with a reason, either the **value**
(the scoring then uses the appraised value instead of the self-assessed one, by every method) or
the **points** directly (a ``direct``-style override of the rubric, 0 to the indicator's maximum).
Both the self-assessed and the appraised figures are kept (``raw_values``, ``appraised_points``,
``observations``).

Points overrides only make sense for the ``points`` (rubric) method: min-max and z-score points
depend on the other units' values, so there the appraised *value* is what counts.
:func:`apply_points_overrides` is the step that replaces rubric points by the appraiser's; see
docs/intake.md for where it plugs into scoring.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import polars as pl
import xlsxwriter

from pipelines.framework.model import Framework
from pipelines.framework.preset import Preset
from pipelines.store.warehouse import run_query
from pipelines.text.labels import LEVEL_NAMES
from pipelines.text.safe_text import write_csv, write_text_cell

DIFFERENCE_COLUMNS = {
    "year": ("Năm", pl.Int32),
    "level": ("Cấp", pl.String),
    "unit_id": ("Mã đơn vị", pl.String),
    "unit_name": ("Tên đơn vị", pl.String),
    "indicator_id": ("Mã chỉ số", pl.String),
    "indicator_name": ("Tên chỉ số", pl.String),
    "self_value": ("Giá trị tự đánh giá", pl.Float64),
    "appraised_value": ("Giá trị thẩm định", pl.Float64),
    "self_points": ("Điểm tự đánh giá", pl.Float64),
    "appraised_points": ("Điểm thẩm định", pl.Float64),
    "reason": ("Lý do điều chỉnh", pl.String),
    "appraisal_file": ("Tệp thẩm định", pl.String),
}


def differences(
    con: duckdb.DuckDBPyConnection, preset: Preset, year: int, level: str | None = None
) -> pl.DataFrame:
    """One row per (unit, indicator) the appraisal adjusted, in the year's counted state: unit,
    indicator, self-assessed and appraised value, self-assessed and appraised points, reason."""
    levels = [level] if level else list(preset.levels)
    files = dict(con.execute("SELECT submission_id, file_name FROM submissions").fetchall())
    names = dict(zip(preset.registry["unit_id"], preset.registry["name"], strict=True))
    frames = []
    for lvl in levels:
        framework = preset.framework(lvl)
        order = {leaf.id: i for i, leaf in enumerate(framework.leaves())}
        obs = run_query(con, "observations", year=year, level=lvl).filter(
            pl.col("appraisal_submission_id").is_not_null()
            | pl.col("points_submission_id").is_not_null()
        )
        if obs.is_empty():
            continue
        frames.append(
            obs.with_columns(
                pl.col("unit_id").replace_strict(names, default=None).alias("unit_name"),
                pl.col("indicator_id")
                .replace_strict({n.id: n.name for n in framework.leaves()}, default=None)
                .alias("indicator_name"),
                _reason().alias("reason"),
                pl.coalesce("appraisal_submission_id", "points_submission_id")
                .replace_strict(files, default=None)
                .alias("appraisal_file"),
                pl.col("indicator_id").replace_strict(order, default=len(order)).alias("_order"),
            )
            .sort("unit_id", "_order")
            .select([pl.col(k).cast(t) for k, (_, t) in DIFFERENCE_COLUMNS.items()])
        )
    if not frames:
        return pl.DataFrame(schema={k: t for k, (_, t) in DIFFERENCE_COLUMNS.items()})
    return pl.concat(frames)


def _reason() -> pl.Expr:
    value, points = pl.col("appraisal_reason"), pl.col("points_reason")
    both = value.is_not_null() & points.is_not_null() & (value != points)
    return (
        pl.when(both)
        .then(pl.concat_str([pl.lit("giá trị: "), value, pl.lit("; điểm: "), points]))
        .otherwise(pl.coalesce(value, points))
    )


def write_differences(frame: pl.DataFrame, out: Path, title: str = "") -> Path:
    """``.csv`` (UTF-8 with BOM, for Excel; English column names) or ``.xlsx`` (Vietnamese
    headers, one sheet); text a unit or an appraiser wrote cannot act as a formula in either."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".csv":
        write_csv(frame, out, include_bom=True)
        return out
    if out.suffix.lower() != ".xlsx":
        raise ValueError(f"{out}: the report is written as .xlsx or .csv")
    book = xlsxwriter.Workbook(str(out))
    book.set_properties({"created": dt.datetime(2000, 1, 1), "author": "dti", "title": title})
    sheet = book.add_worksheet("Chênh lệch thẩm định")
    bold = book.add_format({"bold": True, "font_size": 13})
    header = book.add_format({"bold": True, "bg_color": "#DCE6F1", "border": 1, "text_wrap": True})
    sheet.write(0, 0, title or "BÁO CÁO CHÊNH LỆCH TỰ ĐÁNH GIÁ – THẨM ĐỊNH", bold)
    keys = list(DIFFERENCE_COLUMNS)
    for col, key in enumerate(keys):
        sheet.write(2, col, DIFFERENCE_COLUMNS[key][0], header)
    widths = {"unit_name": 32, "indicator_name": 50, "reason": 50, "appraisal_file": 28}
    for col, key in enumerate(keys):
        sheet.set_column(col, col, widths.get(key, 13))
    for r, row in enumerate(frame.iter_rows(named=True), start=3):
        for col, key in enumerate(keys):
            value = row[key]
            if key == "level":
                value = LEVEL_NAMES.get(value, value)
            if value is None:
                continue
            if isinstance(value, int | float):
                sheet.write_number(r, col, value)
            else:
                write_text_cell(sheet, r, col, value)
    sheet.freeze_panes(3, 0)
    sheet.autofilter(2, 0, 2 + max(frame.height, 1), len(keys) - 1)
    book.close()
    return out


def points_overrides(con: duckdb.DuckDBPyConnection, year: int, level: str) -> pl.DataFrame:
    """``unit_id, node_id, points, reason``: the appraiser's points of a year and level, as the
    observations hold them (the latest per unit and indicator)."""
    return con.execute(
        "SELECT unit_id, indicator_id AS node_id, appraised_points AS points, "
        "points_reason AS reason FROM observations "
        "WHERE year = ? AND level = ? AND appraised_points IS NOT NULL",
        [year, level],
    ).pl()


def apply_points_overrides(
    leaves: pl.DataFrame, overrides: pl.DataFrame, framework: Framework
) -> pl.DataFrame:
    """Leaf scores of the ``points`` method with the appraiser's points in place of the rubric's:
    ``points`` = the override, ``normalised`` = points ÷ maximum, ``n_missing`` = 0 (the appraiser
    scored it). Rows without an override are unchanged; an override above the maximum cannot
    reach here (refused at intake) but is clipped anyway."""
    if overrides.is_empty():
        return leaves
    top = {leaf.id: float(leaf.max_points) for leaf in framework.leaves()}
    given = overrides.select(
        pl.col("unit_id").cast(pl.String),
        pl.col("node_id").cast(leaves.schema["node_id"]),
        pl.col("points").cast(pl.Float64).alias("_override"),
        pl.col("reason").cast(pl.String).fill_null("").alias("_reason"),
    )
    joined = leaves.join(given, on=["unit_id", "node_id"], how="left")
    maximum = pl.col("node_id").replace_strict(top, default=None, return_dtype=pl.Float64)
    override = pl.col("_override").clip(0.0, maximum)
    present = pl.col("_override").is_not_null()
    return joined.with_columns(
        pl.when(present).then(override).otherwise(pl.col("points")).alias("points"),
        pl.when(present)
        .then(override / maximum)
        .otherwise(pl.col("normalised"))
        .alias("normalised"),
        pl.when(present)
        .then(pl.lit(0, dtype=leaves.schema["n_missing"]))
        .otherwise(pl.col("n_missing"))
        .alias("n_missing"),
        *(
            [
                pl.when(present)
                .then(pl.format("appraisal.points_override: {}", pl.col("_reason")))
                .otherwise(pl.col("rule_applied"))
                .alias("rule_applied")
            ]
            if "rule_applied" in leaves.columns
            else []
        ),
    ).select(leaves.columns)
