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


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``error: <message>`` on stderr (the message verbatim, never read as markup) and exit
    with ``code`` (2: the command cannot run as asked; 1: it ran and found a problem)."""
    errors.print(f"[red]error:[/] {escape(message)}")
    sys.exit(code)


def need_warehouse() -> None:
    """Exit with a hint when there is no warehouse to read yet."""
    if not paths.warehouse_path().exists():
        fail(f"no warehouse yet at {paths.warehouse_path()} – run `dti run` or `dti demo` first")


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
    """``2024``, ``2021-2025`` or ``2021,2023`` (ranges inclusive) as a list of years."""
    years: list[int] = []
    for part in spec.split(","):
        if "-" in part:
            lo, hi = part.split("-")
            years += list(range(int(lo), int(hi) + 1))
        else:
            years.append(int(part))
    return years


def error_line(exc: BaseException) -> str:
    """An exception's message as one line: a message of several lines (a framework's problems)
    joined with ``; ``."""
    parts = [part.strip().removeprefix("- ") for part in str(exc).splitlines()]
    return "; ".join(part for part in parts if part)
