"""The public report of a year (static HTML, Vietnamese, offline) and its Excel annex.

``build_year_report`` writes ``<out>/<year>/…`` and refreshes ``<out>/index.html``;
``pipelines.publish.annex.write_annex`` writes ``<out>/<year>/phu-luc-DTI-<year>.xlsx``. Both read
the
year's latest snapshots (see ``pipelines.report.data``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import duckdb

from pipelines import paths
from pipelines.evaluate.dvctt_scopes import report_scope_changes
from pipelines.framework.preset import Preset
from pipelines.report.contents import YearData
from pipelines.report.data import year_data
from pipelines.report.pages import ANNEX_NAME, Site, page_context
from pipelines.report.site import write_site_index, write_year
from pipelines.text.labels import LEVEL_NAMES

__all__ = [
    "ANNEX_NAME",
    "ReportOutcome",
    "annex_path",
    "build_year_annex",
    "build_year_report",
    "load_year",
    "report_dir",
    "write_index",
]


def report_dir() -> Path:
    """Where reports go: ``$DTI_REPORT_DIR``, default ``$DTI_HOME/report``."""
    return Path(os.environ.get("DTI_REPORT_DIR", paths.dti_home() / "report")).resolve()


def annex_path(out: Path, year: int) -> Path:
    return out / str(year) / ANNEX_NAME.format(year=year)


@dataclass(frozen=True)
class ReportOutcome:
    year: int
    out: Path
    index: Path
    pages: int
    data_docs_built: bool
    data_docs_error: str | None
    synthetic: bool
    snapshot_ids: list[str]


def load_year(con: duckdb.DuckDBPyConnection, preset: Preset, year: int) -> YearData:
    data = year_data(
        con,
        year,
        preset_id=preset.id,
        preset_name=preset.name,
        levels=list(preset.levels),
        method=preset.primary_method,
        methods=preset.methods,
        decision=preset.decision,
    )
    data.illustrative = preset.illustrative
    data.scope_changes = report_scope_changes(con, preset, year, [lv.level for lv in data.levels])
    return data


def write_index(con: duckdb.DuckDBPyConnection, preset: Preset, out: Path) -> Path:
    """``<out>/index.html`` across every year the warehouse has snapshots for."""
    from pipelines.report.html import write_assets

    write_assets(out)
    return write_site_index(
        Site(out=out, preset_name=preset.name),
        con,
        preset.primary_method,
        list(preset.levels),
        preset.id,
        preset.decision,
        preset.illustrative,
    )


def build_year_report(
    con: duckdb.DuckDBPyConnection,
    preset: Preset,
    year: int,
    out: Path,
    data_docs: bool = True,
    refresh_index: bool = True,
) -> ReportOutcome:
    """Every page of ``year`` plus its validation pages, then the index across years (unless
    ``refresh_index`` is False: a caller building several years refreshes it after the last)."""
    from pipelines.parallel import background
    from pipelines.report.datadocs import (
        DataDocs,
        build_data_docs,
        recorded_results,
        stored_results,
    )
    from pipelines.report.html import write_page

    out = Path(out)
    data = load_year(con, preset, year)
    site = Site(out=out, preset_name=preset.name)
    target = out / str(year) / "data-docs"
    levels = [level.level for level in data.levels]
    if data_docs:
        # GX renders its pages in a worker (it needs only the stored documents) while the
        # report's own pages are written here: on two cores, the two overlap
        stored = stored_results(con, year)
        with background(partial(build_data_docs, stored, year, levels, target)) as rendered:
            write_year(site, data)
            docs = rendered()
    else:
        write_year(site, data)
        docs = DataDocs(built=False, gx_version=None, error="không yêu cầu (--no-data-docs)")
    recorded = recorded_results(data.validation, levels)
    for group in recorded:
        for row in group["rows"]:
            row["examples"] = json.loads(row["unexpected_examples"] or "[]")[:5]
    write_page(
        target / "index.html",
        "datadocs.html",
        **page_context(site, data, "../../", "validation"),
        title=f"Kiểm tra dữ liệu – DTI {year}",
        data=data,
        recorded=recorded,
        docs=docs,
        pages={(p.level, p.suite): p for p in docs.pages},
        level_names=LEVEL_NAMES,
        figures={},
    )
    index = write_index(con, preset, out) if refresh_index else out / "index.html"
    return ReportOutcome(
        year=year,
        out=out,
        index=index,
        pages=len(site.written) + 1,
        data_docs_built=docs.built,
        data_docs_error=docs.error,
        synthetic=data.provenance.synthetic,
        snapshot_ids=data.snapshot_ids,
    )


def build_year_annex(
    con: duckdb.DuckDBPyConnection,
    preset: Preset,
    year: int,
    out: Path,
    refresh_index: bool = True,
) -> Path:
    """The Excel annex of ``year``; the index, if there is one, is refreshed so it links the
    file (``refresh_index`` as for :func:`build_year_report`)."""
    from pipelines.publish.annex import write_annex

    data = load_year(con, preset, year)
    path = write_annex(data, annex_path(Path(out), year))
    if refresh_index and (Path(out) / "index.html").exists():
        write_index(con, preset, Path(out))
    return path
