"""HTML templating for the report: a jinja2 environment (jinja2 comes with Dagster), Vietnamese
number filters, figure embedding, and writing NFC-normalised UTF-8 files."""

from __future__ import annotations

import datetime as dt
import math
import shutil
import unicodedata
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from pipelines.labels import vn_number

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
ASSETS = HERE / "assets"


def vn(value: float | None, decimals: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return vn_number(float(value), decimals)


def vn_percent(value: float | None, decimals: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{vn_number(value * 100, decimals)}%"


def vn_signed(value: float | None, decimals: int = 2) -> str:
    if value is None:
        return "–"
    return ("+" if value > 0 else "") + vn_number(value, decimals)


VIETNAM = dt.timezone(dt.timedelta(hours=7), "ICT")


def vietnam_time(value: dt.datetime) -> dt.datetime:
    """A timestamp in Vietnam's time (UTC+7, no daylight saving); naive means UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(VIETNAM)


def vn_date(value: dt.datetime | dt.date | None) -> str:
    """``14:05 ngày 23/11/2026`` (Vietnam time) or ``23/11/2026``."""
    if value is None:
        return "–"
    if isinstance(value, dt.datetime):
        return vietnam_time(value).strftime("%H:%M ngày %d/%m/%Y")
    return value.strftime("%d/%m/%Y")


def clean(value: Any) -> Any:
    """NaN and infinities → None, recursively (JSON.parse refuses NaN)."""
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    return value


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(vn=vn, pct=vn_percent, signed=vn_signed, vndate=vn_date)
    return env


def render(template: str, **context: Any) -> str:
    figures = context.get("figures") or {}
    context["figures"] = {key: clean(fig) for key, fig in figures.items()}
    html = environment().get_template(template).render(**context)
    return unicodedata.normalize("NFC", html)


def write_page(path: Path, template: str, **context: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(template, **context), encoding="utf-8")
    return path


def write_assets(out: Path) -> Path:
    """``<out>/assets``: the stylesheet, the chart loader and plotly.js, bundled once per site."""
    import plotly
    from plotly.offline import get_plotlyjs

    target = out / "assets"
    target.mkdir(parents=True, exist_ok=True)
    for name in ("style.css", "report.js"):
        shutil.copyfile(ASSETS / name, target / name)
    bundle = target / "plotly.min.js"
    stamp = target / "plotly.version"
    if not bundle.exists() or not stamp.exists() or stamp.read_text() != plotly.__version__:
        bundle.write_text(get_plotlyjs(), encoding="utf-8")
        stamp.write_text(plotly.__version__)
    return target
