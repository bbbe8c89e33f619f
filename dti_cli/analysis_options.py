"""What the analysis commands share (:mod:`dti_cli.analysis_commands`,
:mod:`dti_cli.history_commands`): the source options — the warehouse (``--year Y --level L``, the
preset's framework and registry; read in one short read-only connection) or files
(``--framework FILE --data FILE``: the project's YAML or a COINr iMeta, a long CSV or a COINr
iData; ``--year`` picks a year of a panel) —, ``--out DIR`` (the result tables as CSV, the Monte
Carlo's replications as Parquet), ``--store`` (into the warehouse tables of the Dagster assets),
and the console output.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import sys
import time
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from dti_cli.arguments import level_arg, preset_arg, year_arg, year_span
from dti_cli.common import data_option, error_line, fail, framework_option

console = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 160)


def source_options(func):
    """--preset/--year/--level (warehouse) or --framework/--data (files), --nominal, --out."""
    options = [
        click.option(
            "--preset",
            default=None,
            help="Preset of the warehouse (default: $DTI_PRESET or daklak).",
        ),
        click.option("--year", type=int, default=None, help="Year (warehouse; or a panel's Time)."),
        click.option("--level", default=None, help="Level of the warehouse (e.g. commune)."),
        framework_option(False, "Framework YAML or COINr iMeta CSV (file mode)."),
        data_option(False, "Long CSV or COINr iData CSV (file mode)."),
        click.option(
            "--nominal",
            default=None,
            help="Reference scenario SETTING|MISSING, e.g. 'minmax:observed|zero' "
            "(default: the preset's primary method; files: min-max, missing → 0).",
        ),
        click.option(
            "--out",
            "out_dir",
            type=click.Path(file_okay=False, path_type=Path),
            default=None,
            help="Folder for the result tables (CSV; replications as Parquet).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def store_option(func):
    """--store: write the results into the warehouse (warehouse mode only)."""
    return click.option(
        "--store", is_flag=True, help="Write the results into the warehouse (warehouse mode)."
    )(func)


def nominal_spec(text: str | None, base=None):
    """The MethodSpec of ``SETTING|MISSING`` (``base`` when no text; its missing rule when the
    text names none)."""
    from pipelines.analysis.inputs import parse_setting

    if not text:
        return base
    setting, _, missing = text.partition("|")
    spec = parse_setting(setting, base)
    return dataclasses.replace(spec, missing=missing or spec.missing)


def analysis_input(preset, year, level, framework_path, data_path, nominal):
    """The AnalysisInput of the options (exits with a message when they do not fit; in warehouse
    mode the preset, year and level are checked before anything is read)."""
    if not (framework_path or data_path):
        loaded = preset_arg(preset)
        if year is None or level is None:
            fail(
                "give --year and --level (warehouse) or --framework and --data (files); "
                f"preset {loaded.id}: years {year_span(loaded.years)}, "
                f"levels {', '.join(loaded.levels)}"
            )
        year_arg(loaded, year)
        level_arg(loaded, level)
        from pipelines import paths

        if not paths.warehouse_path().exists():
            fail(f"no warehouse at {paths.warehouse_path()} – run `dti demo` or `dti run`")
    elif not (framework_path and data_path):
        fail("file mode needs both --framework and --data")
    from pipelines.analysis.datafiles import DataFileError
    from pipelines.analysis.inputs import from_files, from_warehouse
    from pipelines.framework.from_mapping import FrameworkError

    try:
        if framework_path:
            return from_files(framework_path, data_path, year=year, nominal=nominal_spec(nominal))
        inp = from_warehouse(year, level, preset)
        if nominal:
            inp.nominal = nominal_spec(nominal, inp.nominal)
        return inp
    except (DataFileError, FrameworkError, ValueError, KeyError) as exc:
        fail(error_line(exc))


def store_results(store: bool, inp, writer) -> None:
    """``writer(con)`` in a short warehouse session when ``--store`` was given."""
    if not store:
        return
    if not inp.source.startswith("warehouse"):
        fail("--store needs warehouse mode (--year --level)")
    from pipelines.store.warehouse import session

    with session() as con:
        writer(con)
    console.print("[green]stored in the warehouse[/]")


def write_tables(out_dir: Path | None, tables: dict) -> None:
    """Each table into ``out_dir`` (when given): ``name.parquet``, ``name.json`` or ``name.csv``."""
    if out_dir is None:
        return
    from pipelines.text.safe_text import write_csv

    out_dir.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        if name.endswith(".parquet"):
            frame.write_parquet(out_dir / name)
        elif name.endswith(".json"):
            (out_dir / name).write_text(
                json.dumps(frame, indent=2, ensure_ascii=False, default=str)
            )
        else:
            write_csv(frame, out_dir / f"{name}.csv")
    console.print(f"written: {out_dir} ({', '.join(tables)})")


def print_table(frame, title: str, rows: int = 20, digits: int = 3) -> None:
    """The first ``rows`` rows of a frame as a console table, floats at ``digits`` decimals."""
    table = Table(title=title, title_justify="left")
    for column in frame.columns:
        table.add_column(column)
    for row in frame.head(rows).iter_rows():
        table.add_row(
            *[
                "–" if v is None else f"{v:.{digits}f}" if isinstance(v, float) else str(v)
                for v in row
            ]
        )
    console.print(table)
    if frame.height > rows:
        console.print(f"  … {frame.height - rows} more rows")


def print_header(inp, what: str) -> None:
    """One line: the analysis, framework, level, year, size, source and nominal scenario."""
    from pipelines.analysis.inputs import scenario_label

    where = inp.source.replace("warehouse:", "warehouse, preset ")
    console.print(
        f"[bold]{what}[/] – {inp.framework.id}, {inp.level}, {inp.year or 'no year'} "
        f"({inp.units.height} units, {len(inp.framework.leaves())} indicators; {where}); "
        f"nominal {scenario_label(inp.nominal)}"
    )


def timed(func):
    """Print the command's running time after it."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        func(*args, **kwargs)
        console.print(f"Time: {time.perf_counter() - started:.2f}s")

    return wrapper
