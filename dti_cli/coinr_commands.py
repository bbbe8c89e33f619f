"""``dti coinr``: exchange frameworks and data with COINr (the JRC's R package), both ways.

``export`` writes ``iMeta.csv`` (+ ``iMeta.dti.json``, the settings COINr has no column for) and
``iData.csv`` from any framework and data file ``dti score`` reads; ``import`` writes a COINr
``iMeta`` as the project's framework YAML. Reading COINr files back gives the same scores
(``pipelines/framework/coinr.py``).
"""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console

from dti_cli.common import data_option, error_line, fail, framework_option

console = Console(highlight=False, soft_wrap=True)


@click.group()
def coinr() -> None:
    """COINr tables (iMeta, iData) ↔ this project's frameworks and data."""


@coinr.command("export")
@framework_option()
@data_option(False, "Long CSV unit_id,year,indicator_id,value or a COINr iData CSV (optional).")
@click.option(
    "--out-dir",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for iMeta.csv, iMeta.dti.json and iData.csv.",
)
def export(framework_path: Path, data_path: Path | None, out_dir: Path) -> None:
    """Write a framework (and data) as COINr's iMeta and iData tables."""
    from pipelines.analysis.datafiles import read_framework_file, read_observations, write_coinr
    from pipelines.framework.from_mapping import FrameworkError
    from pipelines.workbook.csv_cells import CsvFileError

    try:
        framework = read_framework_file(framework_path)
        values = read_observations(data_path, framework) if data_path else None
    except (CsvFileError, FrameworkError) as exc:
        fail(error_line(exc))
    written = write_coinr(framework, out_dir, values)
    console.print(
        f"{framework.id}: iMeta {len(framework.nodes)} rows → {written['iMeta']} "
        f"(+ {Path(str(written['sidecar'])).name})"
    )
    if values is not None:
        console.print(f"iData {written['rows']} rows × {len(framework.leaves())} indicators → "
                      f"{written['iData']}")  # fmt: skip
    for note in written["notes"]:  # type: ignore[union-attr]
        console.print(f"[yellow]note:[/] {note}")


@coinr.command("import")
@click.option(
    "--imeta",
    "imeta_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A COINr iMeta CSV.",
)
@click.option("--scale", type=float, default=None, help="Index maximum points (default 100).")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False, path_type=Path))
def import_(imeta_path: Path, scale: float | None, out_path: Path) -> None:
    """Write a COINr iMeta as the project's framework YAML."""
    from pipelines.analysis.datafiles import write_framework_yaml
    from pipelines.framework.coinr import read_imeta
    from pipelines.framework.from_mapping import FrameworkError
    from pipelines.workbook.csv_cells import CsvFileError

    try:
        framework = read_imeta(imeta_path, scale=scale)
    except (CsvFileError, FrameworkError) as exc:
        fail(error_line(exc))
    write_framework_yaml(framework, out_path)
    console.print(
        f"{framework.id}: {len(framework.nodes)} nodes, {len(framework.leaves())} indicators, "
        f"scale {framework.scale:g} → {out_path}"
    )
