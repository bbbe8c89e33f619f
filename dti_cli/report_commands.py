"""``dti report``: the public report (HTML) and the Excel annex from the warehouse's snapshots."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import click
from rich.console import Console

from dti_cli.arguments import preset_arg, year_span, years_arg
from dti_cli.common import fail, need_warehouse
from dti_cli.dagster_runs import StepEvent
from dti_cli.run_progress import StepProgress

console = Console(highlight=False, soft_wrap=True)


@contextlib.contextmanager
def timed_step(steps: StepProgress, step: str):
    """Show ``step`` starting, then ending with its time and the counts the block puts in the
    yielded dict (a failure shows as such and is raised on)."""
    steps.step(StepEvent(step, "start"))
    counts: dict[str, int] = {}
    started = time.perf_counter()
    try:
        yield counts
    except BaseException:
        steps.step(StepEvent(step, "failure", time.perf_counter() - started))
        raise
    steps.step(StepEvent(step, "success", time.perf_counter() - started, counts))


def report_index(out: Path | None = None) -> Path:
    """Where the report's front page is (or will be)."""
    from pipelines.report import report_dir

    return (out or report_dir()) / "index.html"


def print_report_location(
    target: Console, out: Path | None = None, years: list[int] | None = None
) -> None:
    """The last lines of ``dti demo`` / ``dti run`` / ``dti report``: where the report is, and
    the Excel annex of each of ``years`` (the years just run or written; None: every year)."""
    index = report_index(out)
    if index.exists():
        target.print(f"Báo cáo công khai (public report): [bold]{index}[/]")
        folders = ["*"] if years is None else [str(year) for year in sorted(years)]
        for folder in folders:
            for annex in sorted(index.parent.glob(f"{folder}/phu-luc-DTI-*.xlsx")):
                target.print(f"Phụ lục Excel (annex) năm {annex.parent.name}: {annex}")


@click.command("report")
@click.option(
    "--preset", default="daklak", show_default=True, help="Bộ chỉ số (preset) trong data/presets."
)
@click.option(
    "--year",
    "years_spec",
    default="all",
    show_default=True,
    help="Năm: 2024, 2021-2025 hoặc all (mọi năm).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Thư mục báo cáo (mặc định: $DTI_REPORT_DIR hoặc $DTI_HOME/report).",
)
@click.option("--no-data-docs", is_flag=True, help="Không dựng trang kiểm tra dữ liệu (Data Docs).")
def report(preset: str, years_spec: str, out: Path | None, no_data_docs: bool) -> None:
    """Xuất báo cáo công khai (HTML, xem không cần mạng) và phụ lục Excel của từng năm."""
    from pipelines.report import build_year_annex, build_year_report, report_dir
    from pipelines.report.data import snapshot_years
    from pipelines.store.warehouse import session

    loaded = preset_arg(preset)
    asked = None if years_spec == "all" else years_arg(loaded, years_spec)
    need_warehouse()
    out = (out or report_dir()).resolve()
    with session(read_only=True) as con:
        available = snapshot_years(con, loaded.primary_method)
        years = available if asked is None else asked
        missing = [y for y in years if y not in available]
        if missing or not years:
            fail(
                f"kho dữ liệu chưa có kết quả ({loaded.primary_method} snapshot) năm "
                f"{year_span(missing or years)}; năm đã có: {year_span(available)}"
            )
        with StepProgress(console) as steps:
            for year in years:
                last = year == years[-1]  # the index across years: once, after the last
                steps.print(f"  {year}")
                with timed_step(steps, "year_report") as counts:
                    outcome = build_year_report(
                        con, loaded, year, out, data_docs=not no_data_docs, refresh_index=last
                    )
                    counts["pages"] = outcome.pages
                with timed_step(steps, "year_annex"):
                    annex = build_year_annex(con, loaded, year, out, refresh_index=last)
                docs = (
                    "Data Docs ✓"
                    if outcome.data_docs_built
                    else f"Data Docs ✗ ({outcome.data_docs_error})"
                )
                flag = " · DỮ LIỆU MÔ PHỎNG" if outcome.synthetic else ""
                steps.print(f"    {outcome.pages} trang, {docs}, phụ lục {annex.name}{flag}")
    print_report_location(console, out, years)
