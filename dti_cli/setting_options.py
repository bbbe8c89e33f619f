"""The options that name a scoring setting (``--method``, ``--missing``, ``--bounds``,
``--zscore``): their choices are the tuples of :mod:`pipelines.scoring.methods`, and a value
outside them is refused on one line naming the value and every choice, in the command's
language (``dti_cli.main.usage_message`` prints it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from dti_cli.common import say
from pipelines.scoring.choices import BOUNDS, METHODS, MISSING_RULES, ZSCORE_MODES


class SettingChoice(click.Choice):
    """A click choice whose refusal reads ``'median' is not one of points, minmax, zscore``."""

    def get_invalid_choice_message(self, value: Any, ctx: click.Context | None) -> str:
        choices = ", ".join(str(choice) for choice in self.choices)
        return say(
            f"{value!r} không phải một trong: {choices}",
            f"{value!r} is not one of {choices}",
            ctx,
        )


Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def method_option(default: str | None = None, help: str | None = None) -> Decorator:
    """``--method`` (one of :data:`~pipelines.scoring.methods.METHODS`), as ``method``."""
    return click.option(
        "--method",
        type=SettingChoice(METHODS),
        default=default,
        show_default=default is not None,
        help=help,
    )


def missing_option(default: str = "zero") -> Decorator:
    """``--missing`` (one of :data:`~pipelines.scoring.methods.MISSING_RULES`)."""
    return click.option(
        "--missing",
        type=SettingChoice(MISSING_RULES),
        default=default,
        show_default=True,
        help="Missing values: 0 points, left out with siblings re-weighted, or the group mean.",
    )


def bounds_option(default: str = "observed") -> Decorator:
    """``--bounds`` (one of :data:`~pipelines.scoring.methods.BOUNDS`)."""
    return click.option(
        "--bounds",
        type=SettingChoice(BOUNDS),
        default=default,
        show_default=True,
        help="Min-max bounds: the year's group, all years pooled, or fixed goalposts.",
    )


def zscore_option(default: str = "cdf") -> Decorator:
    """``--zscore`` (one of :data:`~pipelines.scoring.methods.ZSCORE_MODES`), as
    ``zscore_mode``."""
    return click.option(
        "--zscore",
        "zscore_mode",
        type=SettingChoice(ZSCORE_MODES),
        default=default,
        show_default=True,
        help="z → points: Φ(z) × max, or clip(0.5 + 0.1 z, 0, 1) × max.",
    )
