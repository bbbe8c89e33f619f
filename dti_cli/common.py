"""What every ``dti`` command module shares: the error exit, the warehouse guard and the file
options that name a framework and its data."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

import click
from rich.console import Console
from rich.markup import escape

from pipelines import paths

errors = Console(stderr=True, highlight=False, soft_wrap=True)

EXISTING_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


# Commands an officer runs: their output and errors are Vietnamese. The others (analysis, files,
# operations) answer in English.
OFFICER_COMMANDS = frozenset(
    {
        "status",
        "run",
        "demo",
        "template",
        "receipt",
        "report",
        "publish",
        "override",
        "appraisal-report",
        "history",
        "reingest",
        "portal",
    }
)


def command_name(ctx: click.Context | None = None) -> str | None:
    """The ``dti`` subcommand being run (``coinr`` for ``dti coinr export``), None outside one."""
    ctx = ctx or click.get_current_context(silent=True)
    while ctx is not None and ctx.parent is not None and ctx.parent.parent is not None:
        ctx = ctx.parent
    if ctx is None:
        return None
    if ctx.parent is None:  # dti itself: the subcommand it was invoking, if any
        return ctx.invoked_subcommand
    return ctx.info_name or (ctx.command.name if ctx.command else None)


def in_vietnamese(ctx: click.Context | None = None) -> bool:
    """Whether the running command is an officer command (Vietnamese messages)."""
    return command_name(ctx) in OFFICER_COMMANDS


def say(vietnamese: str, english: str, ctx: click.Context | None = None) -> str:
    """The message in the running command's language."""
    return vietnamese if in_vietnamese(ctx) else english


def fail(message: str, code: int = 2, ctx: click.Context | None = None) -> NoReturn:
    """Print ``lỗi: <message>`` (officer commands) or ``error: <message>`` on stderr, on one line
    (the message verbatim, never read as markup), and exit with ``code`` (2: the command cannot
    run as asked; 1: it ran and found a problem)."""
    prefix = say("lỗi:", "error:", ctx)
    line = " ".join(part.strip() for part in str(message).splitlines() if part.strip())
    errors.print(f"[red]{prefix}[/] {escape(line)}")
    sys.exit(code)


def need_warehouse() -> None:
    """Exit with a hint when there is no warehouse to read yet."""
    if not paths.warehouse_path().exists():
        where = paths.warehouse_path()
        fail(
            say(
                f"chưa có kho dữ liệu (warehouse) tại {where} – chạy `dti run` hoặc `dti demo`",
                f"no warehouse yet at {where} – run `dti run` or `dti demo` first",
            )
        )


def framework_option(required: bool = True, help: str = "Framework YAML, or a COINr iMeta CSV."):
    """``--framework FILE`` (the project's YAML or a COINr iMeta), as ``framework_path``."""
    return click.option(
        "--framework", "framework_path", required=required, default=None, type=EXISTING_FILE,
        help=help,
    )  # fmt: skip


def data_option(
    required: bool = True,
    help: str = "Long CSV unit_id,year,indicator_id,value or a COINr iData CSV.",
):
    """``--data FILE`` (a long CSV or a COINr iData), as ``data_path``."""
    return click.option(
        "--data", "data_path", required=required, default=None, type=EXISTING_FILE, help=help
    )


def parse_years(spec: str) -> list[int]:
    """``2024``, ``2021-2025`` or ``2021,2023`` (ranges inclusive) as a sorted list of years
    (``ValueError`` naming the spec when it is none of these)."""
    years: set[int] = set()
    for part in spec.split(","):
        low, dash, high = part.strip().partition("-")
        try:
            first = int(low)
            last = int(high) if dash else first
        except ValueError:
            message = f"{spec!r} is not a year, a range 2021-2025 or a list 2021,2023"
            raise ValueError(message) from None
        if last < first:
            raise ValueError(f"{spec!r}: the range {part.strip()} runs backwards")
        years.update(range(first, last + 1))
    return sorted(years)


def error_line(exc: BaseException) -> str:
    """An exception's message as one line: a message of several lines (a framework's problems)
    joined with ``; ``."""
    parts = [part.strip().removeprefix("- ") for part in str(exc).splitlines()]
    return "; ".join(part for part in parts if part)
