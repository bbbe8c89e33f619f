"""Frameworks and observations from files, for scoring outside the warehouse (``dti score``).

Frameworks: the project's YAML, or a COINr ``iMeta`` CSV. Observations: a long CSV
(``unit_id,year,indicator_id,value``) or a COINr wide ``iData`` CSV (``uCode``, optional ``Time``,
one column per indicator; other columns such as ``uName``, groups and denominators are ignored);
a panel (several ``Time`` values) gives one year per value. Both ways: :func:`write_coinr` writes
a framework (and data) as COINr tables, :func:`write_framework_yaml` any framework as YAML.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import yaml

from pipelines.framework.coinr import read_imeta, sidecar_path, write_idata, write_imeta
from pipelines.framework.load import framework_to_mapping, load_framework
from pipelines.framework.model import Framework

LONG_COLUMNS = ("unit_id", "year", "indicator_id", "value")


class DataFileError(ValueError):
    """An observations file cannot be read against the framework."""


def read_framework_file(path: str | Path) -> Framework:
    """YAML (``.yaml``/``.yml``) or COINr ``iMeta`` (``.csv``)."""
    path = Path(path)
    if path.suffix.lower() in (".yaml", ".yml"):
        return load_framework(path)
    if path.suffix.lower() == ".csv":
        return read_imeta(path)
    raise DataFileError(f"{path}: framework must be .yaml/.yml or a COINr iMeta .csv")


def read_observations(path: str | Path, framework: Framework) -> pl.DataFrame:
    """``unit_id, year, node_id, value`` from a long or a COINr wide CSV (``NA`` = missing)."""
    path = Path(path)
    header = pl.read_csv(path, n_rows=0).columns
    if set(LONG_COLUMNS) <= set(header):
        frame = pl.read_csv(
            path,
            null_values=["NA", ""],
            schema_overrides={
                "unit_id": pl.String,
                "indicator_id": pl.String,
                "value": pl.Float64,
                "year": pl.Int32,
            },
        ).rename({"indicator_id": "node_id"})
    elif "uCode" in header:
        indicators = [c for c in header if c in set(framework.leaf_ids())]
        if not indicators:
            raise DataFileError(f"{path}: no column matches an indicator of {framework.id}")
        wide = pl.read_csv(
            path,
            null_values=["NA", ""],
            schema_overrides={c: pl.Float64 for c in indicators} | {"uCode": pl.String},
        )
        year = pl.col("Time").cast(pl.Int32) if "Time" in header else pl.lit(None, pl.Int32)
        frame = wide.select(
            pl.col("uCode").alias("unit_id"), year.alias("year"), *indicators
        ).unpivot(index=["unit_id", "year"], variable_name="node_id", value_name="value")
    else:
        raise DataFileError(
            f"{path}: expected a long CSV with columns {', '.join(LONG_COLUMNS)} "
            "or a COINr iData CSV with a uCode column"
        )
    unknown = sorted(set(frame["node_id"]) - set(framework.leaf_ids()))
    if unknown:
        raise DataFileError(
            f"{path}: indicators not in framework {framework.id}: {', '.join(unknown[:20])}"
        )
    duplicated = frame.filter(pl.struct("unit_id", "year", "node_id").is_duplicated())
    if not duplicated.is_empty():
        first = duplicated.row(0, named=True)
        raise DataFileError(
            f"{path}: {duplicated.height} duplicated rows, e.g. unit {first['unit_id']}, "
            f"year {first['year']}, indicator {first['node_id']}"
        )
    return frame.select("unit_id", "year", "node_id", pl.col("value").cast(pl.Float64))


def units_of(values: pl.DataFrame, group_id: str = "all") -> pl.DataFrame:
    """Every (unit, year) present in the data, all in one comparison group."""
    return (
        values.select("unit_id", "year").unique().with_columns(pl.lit(group_id).alias("group_id"))
    )


def write_coinr(
    framework: Framework,
    out_dir: str | Path,
    values: pl.DataFrame | None = None,
    names: dict[str, str] | None = None,
) -> dict[str, object]:
    """``iMeta.csv`` (+ ``iMeta.dti.json``) and, with values, ``iData.csv`` in ``out_dir``.

    Returns the paths written and the notes of :func:`write_imeta` (what COINr would refuse)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    imeta = out / "iMeta.csv"
    written: dict[str, object] = {
        "iMeta": imeta,
        "sidecar": sidecar_path(imeta),
        "notes": write_imeta(framework, imeta),
    }
    if values is not None:
        written["iData"] = out / "iData.csv"
        written["rows"] = write_idata(values, framework, out / "iData.csv", names)
    return written


def write_framework_yaml(framework: Framework, path: str | Path) -> Path:
    """Any framework (e.g. read from a COINr iMeta) as the project's YAML."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        yaml.safe_dump(
            {"framework": framework_to_mapping(framework)},
            allow_unicode=True,
            sort_keys=False,
            width=100,
        ),
        encoding="utf-8",
    )
    return path
