"""``dti report``: the public report (HTML) and the Excel annex from the warehouse's snapshots."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

from dti_cli.common import parse_years
from pipelines import paths

console = Console(highlight=False, soft_wrap=True)


def _parse_years(spec: str, available: list[int]) -> list[int]:
    return available if spec == "all" else parse_years(spec)


def report_index(out: Path | None = None) -> Path:
    """Where the report's front page is (or will be)."""
    from pipelines.report import report_dir

    return (out or report_dir()) / "index.html"


def print_report_location(target: Console, out: Path | None = None) -> None:
    """The last line of ``dti demo`` / ``dti run``: where the report and annexes are."""
    index = report_index(out)
    if index.exists():
        target.print(f"Báo cáo công khai (public report): [bold]{index}[/]")
        annexes = sorted(index.parent.glob("*/phu-luc-DTI-*.xlsx"))
        if annexes:
            target.print(f"Phụ lục Excel (annex): {annexes[-1]}")


@click.command("report")
@click.option("--preset", default="daklak", show_default=True, help="Preset in data/presets.")
@click.option(
    "--year", "years_spec", default="all", show_default=True, help="2024, 2021-2025 or all."
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Site folder (default: $DTI_REPORT_DIR or $DTI_HOME/report).",
)
@click.option("--no-data-docs", is_flag=True, help="Skip building Great Expectations Data Docs.")
def report(preset: str, years_spec: str, out: Path | None, no_data_docs: bool) -> None:
    """Write the Vietnamese public report (offline HTML) and the Excel annex per year."""
    from pipelines.preset import load_preset
    from pipelines.report import build_year_annex, build_year_report, report_dir
    from pipelines.report.data import snapshot_years
    from pipelines.warehouse import session

    if not paths.warehouse_path().exists():
        console.print(f"No warehouse at {paths.warehouse_path()} – run `dti demo` or `dti run`.")
        sys.exit(2)
    loaded = load_preset(preset)
    out = (out or report_dir()).resolve()
    with session(read_only=True) as con:
        available = snapshot_years(con, loaded.primary_method)
        try:
            years = _parse_years(years_spec, available)
        except ValueError:
            console.print(f"[red]--year {years_spec!r}: use 2024, 2021-2025, or all[/]")
            sys.exit(2)
        missing = [y for y in years if y not in available]
        if missing or not years:
            console.print(
                f"[red]no {loaded.primary_method} snapshot for {missing or years_spec}[/]; "
                f"years in the warehouse: {available or 'none'}"
            )
            sys.exit(2)
        for year in years:
            last = year == years[-1]  # the index across years: once, after the last
            outcome = build_year_report(
                con, loaded, year, out, data_docs=not no_data_docs, refresh_index=last
            )
            annex = build_year_annex(con, loaded, year, out, refresh_index=last)
            docs = (
                "Data Docs ✓"
                if outcome.data_docs_built
                else f"Data Docs ✗ ({outcome.data_docs_error})"
            )
            flag = " · DỮ LIỆU MÔ PHỎNG" if outcome.synthetic else ""
            console.print(f"  {year}: {outcome.pages} trang, {docs}, phụ lục {annex.name}{flag}")
    print_report_location(console, out)
