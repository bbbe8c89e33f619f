"""``dti``: run the yearly pipeline through Dagster, show status, score arbitrary files."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from dti_cli import (
    analysis_commands,
    coinr_commands,
    history_commands,
    intake_commands,
    ops_commands,
    portal_commands,
    report_commands,
)
from dti_cli.arguments import (
    level_arg,
    preset_arg,
    text_arg,
    year_arg,
    year_span,
    years_arg,
)
from dti_cli.common import data_option, fail, framework_option, need_warehouse, say
from dti_cli.gc_policy import collect_less
from dti_cli.setting_options import bounds_option, method_option, missing_option, zscore_option
from pipelines import paths
from pipelines.text.labels import LEVEL_NAMES, METHOD_NAMES, vn_number, vn_value

# Wide enough for the summary tables when output is piped (CI logs default to 80 columns).
console = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 140)


class DtiGroup(click.Group):
    """``dti``: a user's mistake is one line on stderr with exit code 2, never a traceback — a
    wrong option or argument (click's usage errors), an unreadable preset, framework or data file,
    a warehouse busy with another writer. Any other exception is a bug and surfaces as one."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            fail(usage_message(exc), ctx=exc.ctx)

    def invoke(self, ctx: click.Context):
        from pipelines.store.lock import WarehouseBusyError

        try:
            return super().invoke(ctx)
        except WarehouseBusyError as exc:
            raise click.ClickException(str(exc)) from exc
        except click.UsageError as exc:
            fail(usage_message(exc), ctx=exc.ctx)
        except Exception as exc:
            if isinstance(exc, user_errors()):
                fail(str(exc))
            raise


# The errors that name a user's bad input (a preset, framework or data file), by module: only
# modules a command imported can have raised theirs, so none is imported just to be caught.
USER_ERRORS = {
    "pipelines.framework.preset": "PresetError",
    "pipelines.framework.from_mapping": "FrameworkError",
    "pipelines.analysis.datafiles": "DataFileError",
}


def user_errors() -> tuple[type[Exception], ...]:
    """The user-error classes of the modules loaded so far."""
    found = (getattr(sys.modules.get(module), name, None) for module, name in USER_ERRORS.items())
    return tuple(error for error in found if isinstance(error, type))


def usage_message(exc: click.UsageError) -> str:
    """Click's usage error as one line, in the command's language, with where to find help."""
    ctx = exc.ctx
    where = f"{ctx.command_path} --help" if ctx is not None else "dti --help"
    if isinstance(exc, click.MissingParameter) and exc.param is not None:
        hint = exc.param.get_error_hint(ctx) if ctx is not None else exc.param.name
        return say(
            f"thiếu {hint} (missing); xem `{where}`",
            f"missing {hint}; see `{where}`",
            ctx,
        )
    if isinstance(exc, click.NoSuchOption) and ctx is not None:
        known = sorted(
            opt for param in ctx.command.get_params(ctx) for opt in getattr(param, "opts", [])
            if opt.startswith("--")
        )  # fmt: skip
        return say(
            f"không có tùy chọn {exc.option_name} (no such option); có: {', '.join(known)}",
            f"no such option {exc.option_name}; valid: {', '.join(known)}",
            ctx,
        )
    if isinstance(exc, click.BadParameter) and exc.param is not None and ctx is not None:
        hint = exc.param.get_error_hint(ctx)
        return say(
            f"giá trị không hợp lệ cho {hint}: {exc.message} (xem `{where}`)",
            f"invalid value for {hint}: {exc.message} (see `{where}`)",
            ctx,
        )
    return say(
        f"{exc.format_message()} (xem `{where}`)",
        f"{exc.format_message()} (see `{where}`)",
        ctx,
    )


@click.group(cls=DtiGroup)
@click.version_option(package_name="dti")
def cli() -> None:
    """DTI – Digital Transformation Index: ingest, validate, score, rank and snapshot."""
    collect_less()


@cli.command()
@click.option(
    "--preset", default="daklak", show_default=True, help="Bộ chỉ số (preset) trong data/presets."
)
@click.option("--years", "years_spec", default=None, help="Năm: 2024, 2021-2025 hoặc 2021,2023.")
def demo(preset: str, years_spec: str | None) -> None:
    """Tạo bộ tệp mô phỏng (demo) và chạy quy trình hằng năm trên đó qua Dagster.

    Dữ liệu mô phỏng (synthetic), chỉ để thử: kết quả được đánh dấu DỮ LIỆU MÔ PHỎNG."""
    loaded = preset_arg(preset)
    serve_preset(preset)
    years = years_arg(loaded, years_spec, runnable=True)
    inbox = paths.dti_home() / "demo" / "inbox"
    console.print(
        f"[bold]Chạy thử DTI (demo)[/] – {loaded.name}, năm {year_span(years)}, "
        f"DỮ LIỆU MÔ PHỎNG (synthetic) → {inbox}"
    )
    _run(loaded, years, {"preset": preset, "inbox": str(inbox)}, with_demo=True)


@cli.command()
@click.option(
    "--preset", default="daklak", show_default=True, help="Bộ chỉ số (preset) trong data/presets."
)
@click.option(
    "--year", "years_spec", default=None, help="Năm: 2024, 2021-2025 (mặc định: mọi năm)."
)
@click.option(
    "--inbox",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Thư mục tiếp nhận <năm>/…/*.xlsx (mặc định: $DTI_HOME/inbox).",
)
def run(preset: str, years_spec: str | None, inbox: Path | None) -> None:
    """Chạy quy trình hằng năm qua Dagster: tiếp nhận, kiểm tra, chấm điểm, xếp hạng, lưu kết quả.

    Cho một năm, một khoảng năm hoặc mọi năm của bộ chỉ số; tệp lấy từ thư mục tiếp nhận."""
    loaded = preset_arg(preset)
    serve_preset(preset)
    years = years_arg(loaded, years_spec, runnable=True)
    inbox = inbox or paths.inbox_dir()
    if not inbox.is_dir():
        fail(
            f"không có thư mục tiếp nhận (inbox) {inbox}: tạo thư mục và đặt tệp vào "
            f"{inbox}/<năm>/, hoặc chỉ thư mục khác bằng --inbox"
        )
    settings = {"preset": preset, "inbox": str(inbox)}
    _run(loaded, years, settings, with_demo=False)


def serve_preset(preset: str) -> None:
    """The Dagster code location serves ``$DTI_PRESET`` (its partitions start at that preset's
    first year): a run for ``--preset`` loads the definitions for that preset."""
    os.environ["DTI_PRESET"] = preset


def _run(preset, years: list[int], settings: dict, with_demo: bool) -> None:
    from dti_cli.dagster_runs import run_years
    from dti_cli.run_progress import StepProgress, seconds_text

    inbox = Path(settings["inbox"])
    started = time.perf_counter()
    labels = {
        "dti_demo_inbox": "tạo tệp mô phỏng (demo workbooks)",
        "dti_annual": "tiếp nhận → kiểm tra → chấm điểm → snapshot",
    }

    with StepProgress(console) as steps:

        def progress(job: str, year: int, outcome) -> None:
            if outcome is None:
                steps.print(f"  {year} · {labels[job]}")
                return
            mark = "[green]✓[/]" if outcome.success else "[red]✗[/]"
            steps.print(f"  {year} · {labels[job]} {mark} {seconds_text(outcome.seconds)}")
            if outcome.failed_checks:
                steps.print(
                    f"    [yellow]kiểm tra không đạt:[/] {', '.join(outcome.failed_checks)}"
                )
            if outcome.error:
                steps.print(f"    [red]{outcome.error.strip()}[/]")
            for year_key in sorted(outcome.intake):
                _print_intake(int(year_key), outcome.intake[year_key], inbox, steps.print)

        outcomes = run_years(years, settings, with_demo, progress, steps.step)
    failed = [o for o in outcomes if not o.success]
    scored = [o.year for o in outcomes if o.job == "dti_annual" and o.success]
    _print_summary(preset, scored)
    _print_years_without_files(preset, [o.year for o in failed if o.job == "dti_annual"])
    console.print(f"\nKho dữ liệu (DuckDB warehouse): [bold]{paths.warehouse_path()}[/]")
    report_commands.print_report_location(console, years=scored)
    console.print(f"Thời gian: {seconds_text(time.perf_counter() - started)}")
    if failed:
        console.print(
            f"[red]{len(failed)} lần chạy không thành công:[/] "
            + ", ".join(f"{o.year} {o.job}" for o in failed)
        )
        sys.exit(1)


def _print_intake(year: int, seen: dict, inbox: Path, show=None) -> None:
    """One year's intake, as the run's ``raw_submissions`` step recorded it: files seen, new,
    unchanged and refused (and where the refused ones' receipts are); printed by ``show``
    (default: the console)."""
    show = show or console.print
    if not seen.get("files_seen"):
        show(f"    {year}: chưa có tệp nào trong {inbox / str(year)}")
        return
    refused = seen.get("files_refused", 0)
    show(
        f"    {year}: {seen['files_seen']} tệp, {seen['files_new']} tệp mới, "
        f"{seen.get('files_unchanged', 0)} tệp không đổi (đã nhận trước đó), "
        f"{refused} tệp bị từ chối"
    )
    if refused:
        folders = ", ".join(seen.get("refused_receipts") or []) or "–"
        show(f"      [yellow]biên nhận của tệp bị từ chối:[/] {folders}")
    for line in seen.get("replaced_other_name") or []:
        show(f"      [yellow]cần kiểm tra (thay tệp khác tên):[/] {line}")
    for line in seen.get("receipt_failures") or []:
        show(f"      [red]không ghi được biên nhận:[/] {line}")


def _print_years_without_files(preset, years: list[int]) -> None:
    """For each failed year no file was accepted for at all (no level has an observation):
    one line saying so, the reason the year could not be scored."""
    from pipelines.store.warehouse import session
    from pipelines.validate.observations import levels_without_observations

    if not years or not paths.warehouse_path().exists():
        return
    with session(read_only=True) as con:
        for year in years:
            if len(levels_without_observations(con, preset, year)) == len(preset.levels):
                console.print(
                    f"[yellow]chưa có tệp nào được tiếp nhận cho năm {year}[/]: năm này chưa "
                    "chấm điểm được"
                )


# The run summary's columns per level: the last counts the units with at least one indicator
# without a value (a unit missing three values counts once).
SUMMARY_COLUMNS = (
    ("Cấp", "left"),
    ("Số đơn vị", "right"),
    ("Cao nhất", "left"),
    ("Điểm", "right"),
    ("Thấp nhất", "left"),
    ("Điểm", "right"),
    ("Đơn vị thiếu số liệu (≥ 1 chỉ số)", "right"),
)


def _print_summary(preset, years: list[int]) -> None:
    from pipelines.store.warehouse import run_query, session
    from pipelines.validate.observations import levels_without_observations

    if not years:
        return
    method = preset.primary_method
    with session(read_only=True) as con:
        for year in years:
            for level in levels_without_observations(con, preset, year):
                name = LEVEL_NAMES.get(level, level)
                console.print(
                    f"[yellow]chưa có tệp nào cho {name[:1].lower()}{name[1:]} năm {year}[/] "
                    "(cấp này chưa được chấm điểm)"
                )
            summary = run_query(con, "year_summary", year=year, method=method)
            table = Table(title=f"DTI {year} – {METHOD_NAMES[method]}", title_justify="left")
            for column, justify in SUMMARY_COLUMNS:
                table.add_column(column, justify=justify)
            for row in summary.iter_rows(named=True):
                table.add_row(
                    LEVEL_NAMES.get(row["level"], row["level"]),
                    str(row["n_units"]),
                    row["top_unit"],
                    f"{vn_number(row['top_points'])}/{vn_value(row['max_points'])}",
                    row["bottom_unit"],
                    f"{vn_number(row['bottom_points'])}/{vn_value(row['max_points'])}",
                    str(row["n_units_with_missing"]),
                )
            console.print(table)


@cli.command()
def status() -> None:
    """Xem kho dữ liệu đang có gì theo từng năm và cấp: tệp, số liệu, kiểm tra, kết quả."""
    from pipelines.store.warehouse import run_query, session

    if not paths.warehouse_path().exists():
        console.print(
            f"Chưa có kho dữ liệu (warehouse) tại {paths.warehouse_path()} – "
            "chạy `dti demo` hoặc `dti run`."
        )
        return
    with session(read_only=True) as con:
        frame = run_query(con, "status")
    if frame.is_empty():
        console.print(
            f"Kho dữ liệu (warehouse) tại {paths.warehouse_path()} chưa có số liệu nào – "
            "đặt tệp vào thư mục tiếp nhận rồi chạy `dti run`, hoặc chạy `dti demo`."
        )
        return
    table = Table(title=f"Kho dữ liệu (warehouse) {paths.warehouse_path()}", title_justify="left")
    for column in frame.columns:
        header = STATUS_COLUMNS.get(column, column)
        if column == "level":
            table.add_column(header, no_wrap=True)
        else:
            table.add_column(header, justify="right")
    for row in frame.iter_rows(named=True):
        table.add_row(*[status_cell(column, value) for column, value in row.items()])
    console.print(table)


# The columns of sql/queries/status.sql, as the officer reads them.
STATUS_COLUMNS = {
    "year": "Năm",
    "level": "Cấp",
    "submissions": "Tệp nhận",
    "rejected": "Dòng từ chối",
    "observations": "Số liệu",
    "with_value": "Có giá trị",
    "validation_passed": "Kiểm tra",
    "snapshots": "Bản kết quả",
    "published": "Đã công bố",
}


def status_cell(column: str, value) -> str:
    """One cell of ``dti status``: a level by its Vietnamese name and the id ``--level`` takes,
    checks as đạt / không đạt."""
    if value is None:
        return "–"
    if column == "level":
        return f"{LEVEL_NAMES.get(value, value)} · {value}"
    if column == "validation_passed":
        return "đạt" if value else "không đạt"
    return str(value)


@cli.command()
@framework_option()
@data_option()
@method_option(default="minmax")
@missing_option()
@bounds_option()
@click.option(
    "--reference-year",
    type=int,
    default=None,
    help="With --bounds goalposts: leaves without framework goalposts use this year's bounds.",
)
@click.option(
    "--clip/--no-clip",
    default=True,
    show_default=True,
    help="Goalposts: values beyond them score 0 or the maximum.",
)
@zscore_option()
@click.option(
    "--explain",
    is_flag=True,
    help="Add a last column rule_applied: which rule gave each leaf its points.",
)
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False, path_type=Path))
def score(
    framework_path: Path,
    data_path: Path,
    method: str,
    missing: str,
    bounds: str,
    reference_year: int | None,
    clip: bool,
    zscore_mode: str,
    explain: bool,
    out_path: Path,
) -> None:
    """Score any framework and data file; writes one CSV row per unit, year and node."""
    from dti_cli.common import error_line
    from pipelines.analysis.datafiles import read_framework_file, read_observations, units_of
    from pipelines.scoring.engine import score as score_units
    from pipelines.scoring.given_nodes import refuse_method, split_given
    from pipelines.scoring.methods import MethodSpec
    from pipelines.text.safe_text import write_csv

    try:
        spec = MethodSpec(
            method,  # type: ignore[arg-type]
            missing=missing,  # type: ignore[arg-type]
            minmax_bounds=bounds,  # type: ignore[arg-type]
            clip=clip,
            zscore_mode=zscore_mode,  # type: ignore[arg-type]
            reference_year=reference_year,
        )
        framework = read_framework_file(framework_path)
        values = read_observations(data_path, framework, nodes=True)
        given = split_given(values, framework)[1]  # values given above the leaves
        refuse_method(method, given)
    except ValueError as exc:  # a refused file (one located line) or a bad method setting
        fail(error_line(exc))
    for finding in framework.findings:
        console.print(f"[yellow]note:[/] {finding}")
    scores = score_units(values, units_of(values), framework, spec)
    columns = ["unit_id", "year", "node_id", "node_level", "points", "max_points", "ratio", "rank"]
    if method == "zscore":
        columns.append("z")
    if explain:
        columns.append("rule_applied")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    write_csv(scores.select(columns).sort("year", "unit_id", maintain_order=True), out_path)
    n_units = values.select("unit_id", "year").unique().height
    leaf_rows = scores.filter(scores["node_id"].is_in(framework.leaf_ids()))
    missing_count = int(leaf_rows["n_missing"].sum())  # what the missing-data rule filled
    treatment = {
        "zero": "→ 0 points",
        "exclude": "→ left out, siblings re-weighted",
        "mean": "→ group mean",
    }[missing]
    settings = ""
    if method == "minmax" and bounds != "observed":
        settings = f", bounds {bounds}"
    if method == "zscore" and zscore_mode != "cdf":
        settings = f", z {zscore_mode}"
    at_nodes = "" if given is None else f", {given.height} values given at nodes above the leaves"
    console.print(
        f"{framework.id}: {n_units} unit-years × {len(framework.leaves())} indicators "
        f"({missing_count} missing {treatment}{at_nodes}), method {method}{settings} → {out_path} "
        f"({scores.height} rows)"
    )
    declared = framework.normalisation_params()
    if declared:  # what nodes of the framework declare for the leaves below them
        console.print(
            "declared by nodes: "
            + "; ".join(
                f"{node_id} {d['method']}"
                + (
                    f" goalposts [{d['goalposts'][0]:g}, {d['goalposts'][1]:g}]"
                    if "goalposts" in d
                    else ""
                )
                for node_id, d in declared.items()
            )
            + f" (other leaves: {method})",
            markup=False,
        )


@cli.command()
@click.argument("year", type=int)
@click.argument("level")
@click.option("--by", "granted_by", required=True, help="Người cho phép.")
@click.option("--reason", required=True, help="Lý do cho phép chấm điểm.")
@click.option(
    "--preset",
    default=None,
    help="Bộ chỉ số của kho dữ liệu (mặc định: $DTI_PRESET hoặc daklak).",
)
def override(year: int, level: str, granted_by: str, reason: str, preset: str | None) -> None:
    """Cho phép chấm điểm một năm và cấp dù kiểm tra bắt buộc không đạt (có ghi lại).

    YEAR: năm; LEVEL: cấp (department, district, commune)."""
    from pipelines.store.warehouse import session
    from pipelines.validate.observations import grant_override

    loaded = preset_arg(preset)
    year_arg(loaded, year)
    level_arg(loaded, level)
    granted_by = text_arg(granted_by, "--by")
    reason = text_arg(reason, "--reason")
    need_warehouse()
    with session() as con:
        grant_override(con, year, level, granted_by, reason)
    console.print(
        f"Đã ghi cho phép chấm điểm (override) năm {year}, {LEVEL_NAMES.get(level, level).lower()}"
        f", người cho phép: {granted_by}; lý do: {reason}"
    )


@cli.group()
def framework() -> None:
    """Framework files."""


@framework.command("check")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def framework_check(path: Path) -> None:
    """Load and validate a framework file; print its shape and any declared-versus-listed notes."""
    from pipelines.analysis.datafiles import read_framework_file
    from pipelines.framework.from_mapping import FrameworkError

    try:
        loaded = read_framework_file(path)
    except FrameworkError as exc:
        fail(str(exc))
    counts = {t: len(loaded.of_type(t)) for t in ("group", "pillar", "component", "criterion")}
    assumed = sum(n.source == "assumed" for n in loaded.nodes.values())
    console.print(
        f"{loaded.id} ({loaded.version}): scale {loaded.scale:g}, "
        + ", ".join(f"{v} {k}s" for k, v in counts.items() if v)
        + f", {len(loaded.leaves())} leaves, {assumed} nodes marked assumed"
    )
    components = loaded.of_type("component")
    from_decision = sum(c.source == "decision" for c in components)
    declared = loaded.declared.get("components")
    console.print(
        f"{loaded.id}: components from the decision {from_decision}, "
        f"assumed {len(components) - from_decision}"
        + (f" (the decision declares {declared})" if declared is not None else "")
    )
    document = loaded.source.get("document")
    if document and from_decision < len(components):
        # the decision's own line says which of its tables the assumed components stand in for
        console.print(f"{loaded.id}: source {document}", markup=False)
    for finding in loaded.findings:
        console.print(f"[yellow]declared ≠ listed:[/] {finding}")


cli.add_command(coinr_commands.coinr)
cli.add_command(report_commands.report)
intake_commands.register(cli)
analysis_commands.register(cli)
history_commands.register(cli)
ops_commands.register(cli)
portal_commands.register(cli)

if __name__ == "__main__":
    cli()
