"""Great Expectations Data Docs for a year, inside the report, readable offline.

The validation that ran at ingest (``pipelines.validate.observations``) stored GX's own result of
every
suite in ``gx_results``; those documents are put into an ephemeral GX context whose Data Docs site
is a folder of the report (``<year>/data-docs/gx``), and ``build_data_docs`` writes GX's pages
there. The pages therefore show the run that decided whether the year could be scored — nothing
is validated a second time.

GX's page templates load Bootstrap, jQuery, Font Awesome and Vega from CDNs, and its index page is
drawn entirely by JavaScript from those CDNs. Offline that gives failed requests and script errors,
so the built pages are post-processed: external ``<link>``/``<script>``/``<img>`` and inline
scripts are removed (the content of validation and suite pages is static HTML and stays), as are
GX's newsletter footer ("Subscribe"), links to other sites (their text stays) and background
images from remote hosts (its logo), in the pages and in GX's stylesheets. The pages then load
the report's own stylesheet and a few local rules, and GX's JavaScript index is replaced by a
static list: the folder works offline and loads nothing from outside.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

SITE_NAME = "dti"
_EXTERNAL_LINK = re.compile(r"<link\b[^>]*href=\"https?://[^\"]*\"[^>]*>\s*", re.I)
_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>\s*", re.I | re.S)
_EXTERNAL_IMG = re.compile(r"<img\b[^>]*src=\"https?://[^\"]*\"[^>]*>", re.I)
_FOOTER = re.compile(r"<footer\b.*?</footer>\s*", re.I | re.S)
_EXTERNAL_ANCHOR = re.compile(r"<a\b[^>]*href=\"https?://[^\"]*\"[^>]*>(.*?)</a>", re.I | re.S)
_REMOTE_URL = re.compile(r"url\(\s*['\"]?(?:https?:)?//[^)]*\)", re.I)
_LOCAL_RESOURCE = re.compile(
    r"<(?:link|img)\b[^>]*(?:href|src)=\"(?!https?:|data:|#)([^\"]+)\"[^>]*>", re.I
)
_OFFLINE_STYLE = """<style>
body { margin: 0 1rem; }
table { border-collapse: collapse; margin: 0.5rem 0; }
td, th { border: 1px solid #d9dee5; padding: 0.25rem 0.5rem; vertical-align: top; }
.dti-offline { background: #0d47a1; color: #fff; padding: 0.6rem 1rem; margin: 0 -1rem 1rem; }
.dti-offline a { color: #fff; }
.navbar-brand, .modal, .ge-walkthrough-modal, nav.navbar button { display: none; }
</style>
"""


@dataclass
class SuitePages:
    level: str
    suite: str
    success: bool
    evaluated: int
    successful: int
    validation_page: str | None  # relative to <year>/data-docs/
    suite_page: str | None


@dataclass
class DataDocs:
    built: bool
    gx_version: str | None
    pages: list[SuitePages] = field(default_factory=list)
    error: str | None = None


def stored_results(con: duckdb.DuckDBPyConnection, year: int) -> list[dict[str, Any]]:
    """GX's documents of ``year`` as stored by the validation (``gx_results``), as plain rows:
    what :func:`build_data_docs` reads (it needs no warehouse, so it can run in a worker)."""
    from pipelines.store.warehouse import run_query

    return run_query(con, "gx_results", year=year).to_dicts()


def build_data_docs(
    stored: list[dict[str, Any]], year: int, levels: list[str], target: Path
) -> DataDocs:
    """Build GX Data Docs for ``year`` (``stored``: :func:`stored_results`) into ``target/gx``
    and make them work offline."""
    gx_dir = target / "gx"
    shutil.rmtree(gx_dir, ignore_errors=True)
    try:
        docs = _build(stored, year, levels, gx_dir)
    except Exception as exc:  # reported on the page, never hidden
        shutil.rmtree(gx_dir, ignore_errors=True)
        return DataDocs(built=False, gx_version=None, error=f"{type(exc).__name__}: {exc}")
    make_offline(gx_dir, target)
    return docs


def _build(stored: list[dict[str, Any]], year: int, levels: list[str], gx_dir: Path) -> DataDocs:
    import great_expectations as gx
    from great_expectations.core.expectation_suite import ExpectationSuite
    from great_expectations.core.expectation_validation_result import (
        ExpectationSuiteValidationResultSchema,
    )
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    from pipelines.validate.suites import DEFAULT_EXPECTATIONS_DIR, read_suite_file

    if not stored:
        raise LookupError(f"no Great Expectations results stored for {year}: validate it again")
    gx_dir.mkdir(parents=True, exist_ok=True)
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
        data_docs_sites={
            SITE_NAME: {
                "class_name": "SiteBuilder",
                "show_how_to_buttons": False,
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(gx_dir),
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            }
        },
    )
    context = gx.get_context(mode="ephemeral", project_config=config)
    schema = ExpectationSuiteValidationResultSchema()
    documents = {(row["level"], row["suite"]): row for row in stored}
    pages: list[SuitePages] = []
    for level in levels:
        for suite_name in ("raw_values", "observations"):
            row = documents.get((level, suite_name))
            if row is None:
                continue
            name = _gx_name(suite_name, level, year)
            spec = read_suite_file(DEFAULT_EXPECTATIONS_DIR / f"{suite_name}.json")
            context.suites.add(
                ExpectationSuite(
                    name=name,
                    expectations=[
                        ExpectationConfiguration(
                            **{k: val for k, val in entry.items() if k != "id"}
                        ).to_domain_obj()
                        for entry in spec["expectations"]
                    ],
                    meta=spec.get("meta"),
                )
            )
            document = json.loads(row["document"])
            document["suite_name"] = name
            result = schema.load(document)
            run_id = RunIdentifier(run_name=f"dti-{year}", run_time=row["validated_at"])
            context.validation_results_store.set(
                ValidationResultIdentifier(
                    expectation_suite_identifier=ExpectationSuiteIdentifier(name=name),
                    run_id=run_id,
                    batch_identifier=name,
                ),
                result,
            )
            stats = result.statistics or {}
            pages.append(
                SuitePages(
                    level=level,
                    suite=suite_name,
                    success=bool(result.success),
                    evaluated=int(stats.get("evaluated_expectations") or 0),
                    successful=int(stats.get("successful_expectations") or 0),
                    validation_page=None,
                    suite_page=None,
                )
            )
    # No GX index page: make_offline replaces it with a static list (GX's is drawn by
    # JavaScript from CDNs), so rendering it was time spent on a page nobody sees.
    context.build_data_docs(site_names=[SITE_NAME], build_index=False)
    for page in pages:
        name = _gx_name(page.suite, page.level, year)
        found = sorted(gx_dir.glob(f"validations/{name}/**/*.html"))
        page.validation_page = found[-1].relative_to(gx_dir.parent).as_posix() if found else None
        suite_file = gx_dir / "expectations" / f"{name}.html"
        page.suite_page = (
            suite_file.relative_to(gx_dir.parent).as_posix() if suite_file.exists() else None
        )
    return DataDocs(built=True, gx_version=gx.__version__, pages=pages)


def _gx_name(suite: str, level: str, year: int) -> str:
    # GX turns dots of a suite name into folders; hyphens keep one page per suite.
    return f"{suite}-{level}-{year}"


def make_offline(gx_dir: Path, docs_home: Path) -> None:
    """Strip CDN resources and scripts from GX's pages; replace its JavaScript index."""
    pages = sorted(gx_dir.rglob("*.html"))
    for page in pages:
        html = page.read_text(encoding="utf-8")
        html = _EXTERNAL_LINK.sub("", html)
        html = _SCRIPT.sub("", html)
        html = _EXTERNAL_IMG.sub("", html)
        html = _FOOTER.sub("", html)
        html = _EXTERNAL_ANCHOR.sub(r"\1", html)
        html = _REMOTE_URL.sub("none", html)
        html = html.replace(">Home</a>", ">Mục lục</a>")
        # GX gets some relative paths wrong (the favicon of validation pages): drop what is
        # not there rather than leave a failed load.
        html = _LOCAL_RESOURCE.sub(_keep_if_present(page.parent), html)
        back = os.path.relpath(docs_home / "index.html", page.parent).replace(os.sep, "/")
        banner = (
            '<div class="dti-offline">Trang Data Docs do Great Expectations tạo, bằng tiếng Anh; '
            "đã bỏ các tệp CSS/JavaScript, hình ảnh và liên kết tới trang ngoài để xem được khi "
            "không có mạng. Cùng kết quả, bằng tiếng Việt: "
            f'<a href="{back}">← Kết quả kiểm tra dữ liệu của báo cáo</a></div>'
        )
        html = html.replace("</head>", _report_style(page.parent, docs_home) + "</head>", 1)
        html = re.sub(r"(<body\b[^>]*>)", r"\1" + banner.replace("\\", "\\\\"), html, count=1)
        page.write_text(html, encoding="utf-8")
    for sheet in sorted(gx_dir.rglob("*.css")):
        css = sheet.read_text(encoding="utf-8", errors="ignore")
        sheet.write_text(_REMOTE_URL.sub("none", css), encoding="utf-8")
    _static_index(gx_dir, docs_home)
    _prune_static(gx_dir)


def _report_style(folder: Path, docs_home: Path) -> str:
    """The report's stylesheet (``<out>/assets/style.css``) and the local rules, for a page in
    ``folder`` (``docs_home`` is ``<out>/<year>/data-docs``)."""
    css = os.path.relpath(docs_home.parent.parent / "assets" / "style.css", folder)
    return f'<link rel="stylesheet" href="{css.replace(os.sep, "/")}">\n' + _OFFLINE_STYLE


def _keep_if_present(folder: Path):
    def keep(match: re.Match) -> str:
        target = folder / match.group(1).split("?")[0].split("#")[0]
        return match.group(0) if target.exists() else ""

    return keep


def _static_index(gx_dir: Path, docs_home: Path) -> None:
    links = []
    for page in sorted(gx_dir.glob("expectations/*.html")):
        rel = page.relative_to(gx_dir).as_posix()
        links.append(f'<li>Bộ kiểm tra (expectation suite): <a href="{rel}">{page.stem}</a></li>')
    for page in sorted(gx_dir.glob("validations/**/*.html")):
        rel = page.relative_to(gx_dir).as_posix()
        links.append(f'<li>Kết quả kiểm tra (validation result): <a href="{rel}">{rel}</a></li>')
    (gx_dir / "index.html").write_text(
        '<!DOCTYPE html>\n<html lang="vi"><head><meta charset="utf-8">'
        "<title>Great Expectations Data Docs</title>"
        + _report_style(gx_dir, docs_home)
        + '</head><body><h1>Great Expectations Data Docs</h1><div class="dti-offline">'
        "Mục lục tĩnh thay cho trang mục lục của GX (trang đó vẽ bằng JavaScript tải từ CDN). "
        '<a href="../index.html">← Kết quả kiểm tra dữ liệu của báo cáo</a></div><ul>'
        + "\n".join(links)
        + "</ul></body></html>\n",
        encoding="utf-8",
    )


def _prune_static(gx_dir: Path) -> None:
    """Drop GX's static images and fonts no page or stylesheet refers to (about 4 MB a year)."""
    static = gx_dir / "static"
    if not static.exists():
        return
    texts = "".join(
        p.read_text(encoding="utf-8", errors="ignore")
        for p in [*gx_dir.rglob("*.html"), *static.rglob("*.css")]
    )
    for path in sorted(static.rglob("*")):
        if path.is_file() and path.suffix != ".css" and path.name not in texts:
            path.unlink()


def recorded_results(validation: pl.DataFrame, levels: list[str]) -> list[dict]:
    """The ingest-time outcomes per level and suite, as stored in ``validation_results``."""
    rows = []
    order = {level: i for i, level in enumerate(levels)}
    validation = validation.with_columns(
        pl.col("level").replace_strict(order, default=len(order)).alias("_o")
    ).sort("_o", "suite", "expectation")
    for (level, suite), part in validation.group_by("level", "suite", maintain_order=True):
        rows.append(
            {
                "level": level,
                "suite": suite,
                "n": part.height,
                "passed": int(part["success"].sum()),
                "blocking_failed": int((~part["success"] & part["blocking"]).sum()),
                "rows": part.to_dicts(),
            }
        )
    return rows
