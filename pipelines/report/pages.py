"""The site and what every page of it shares: where it is written, the page context (navigation,
footer, the notices of an assumed or synthetic framework) and writing one page."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.framework.assumed import illustrative_notice
from pipelines.report.contents import LevelData, Provenance, YearData
from pipelines.report.html import write_page
from pipelines.text.labels import METHOD_NAMES, vn_time

ANNEX_NAME = "phu-luc-DTI-{year}.xlsx"


@dataclass
class Site:
    """What is shared by every page of the site."""

    out: Path
    preset_name: str
    written: list[Path] = field(default_factory=list)


def synthetic_text(p: Provenance) -> str | None:
    if not p.synthetic:
        return None
    return (
        f"{p.n_synthetic}/{p.n_checked} tệp số liệu của năm ghi synthetic=true trong trang "
        "nhận dạng (_meta): số liệu do chương trình tạo để trình diễn."
    )


def _footer(data: YearData) -> list[str]:
    lines = [
        f"Nguồn: kho dữ liệu DTI, snapshot mới nhất của năm {data.year} theo phương pháp "
        f"{METHOD_NAMES.get(data.method, data.method)}."
    ]
    for level in data.levels:
        snap = level.snapshot
        lines.append(
            f"{level.label}: snapshot {snap['snapshot_id']} · bộ chỉ số {snap['framework_id']} "
            f"({level.framework.version}) · mã băm đầu vào {snap['input_hash'][:12]}…"
        )
    p = data.provenance
    lines.append(
        f"Dữ liệu tính đến: {vn_time(p.data_as_of)} (lượt nộp cuối cùng được tiếp nhận: "
        f"{p.last_file or '–'})."
    )
    return lines


def _nav_levels(data: YearData) -> list[dict[str, str]]:
    out = []
    for level in data.levels:
        href = (
            f"nhom-{level.groups[0].slug}.html"
            if len(level.groups) == 1
            else f"index.html#cap-{level.level}"
        )
        out.append({"level": level.level, "label": level.label, "href": href})
    return out


def assumed_notices(levels: list[LevelData]) -> list[dict[str, str | None]]:
    """The banner of every level whose scored components include assumed ones, with the
    officer's acceptance when the snapshot was published anyway."""
    return [
        {
            "banner": level.assumed.banner,
            "accepted": level.acceptance.text if level.acceptance else None,
        }
        for level in levels
        if level.assumed is not None and level.assumed.any_assumed
    ]


def page_context(site: Site, data: YearData, root: str, here: str) -> dict[str, Any]:
    """What every page of a year shares; a level's page warns about that level's assumed
    components, the other pages about every level's."""
    shown = [level for level in data.levels if level.level == here] or data.levels
    illustrative = illustrative_notice(data.illustrative)
    return {
        "assumed": ([illustrative] if illustrative else []) + assumed_notices(shown),
        "site": site,
        "year": data.year,
        "root": root,
        "here": here,
        "nav_levels": _nav_levels(data),
        "annex_name": ANNEX_NAME.format(year=data.year),
        "synthetic": synthetic_text(data.provenance),
        "footer": _footer(data),
        "method_name": METHOD_NAMES.get(data.method, data.method),
    }


def write_site_page(into: Site, path: Path, template: str, **context: Any) -> Path:
    """Render ``template`` to ``path`` and record it among the site's written files."""
    written = write_page(path, template, **context)
    into.written.append(written)
    return written
