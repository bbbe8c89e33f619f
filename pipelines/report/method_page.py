"""The methodology page of a year (``<out>/<year>/phuong-phap.html``): the parameters the year was
scored with, where the units' flags come from, and the rules of each level."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import polars as pl

from pipelines.report.contents import LevelData, YearData
from pipelines.report.pages import Site, page_context, write_site_page
from pipelines.report.readings import reading_differences
from pipelines.text.labels import METHOD_NAMES, PARAM_LABELS, PARAM_VALUES, RULE_NAMES, vn_time

# Where a unit's flags come from (units.flags_source), as the method page says it.
SOURCE_VALUES = {
    "assumed": "giả định",
    "decision": "quyết định",
    "real": "danh mục đơn vị",
    "generated": "dữ liệu mô phỏng",
}


SOURCE_NAMES = {"decision": "Quyết định", "date": "Ngày ban hành", "document": "Văn bản"}


def _source_rows(source: dict[str, Any]) -> list[tuple[str, str]]:
    """The framework's ``source`` block as (Vietnamese label, value), dates as dd/mm/yyyy."""
    rows = []
    for key, value in source.items():
        shown = str(value)
        if key == "date" and re.fullmatch(r"\d{4}-\d{2}-\d{2}", shown):
            shown = vn_time(dt.date.fromisoformat(shown))
        rows.append((SOURCE_NAMES.get(key, key), shown))
    return rows


def _params_rows(params: dict[str, Any]) -> list[dict[str, str]]:
    rows = []
    for key, value in params.items():
        shown = PARAM_VALUES.get((key, str(value)))
        text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
        if key == "rank_precision" and isinstance(value, dict):
            shown = _rank_precision_text(value)
            text = shown
        rows.append(
            {
                "key": key,
                "label": PARAM_LABELS.get(key, key),
                "value": text,
                "meaning": shown or "",
            }
        )
    return rows


def _rank_precision_text(precision: dict[str, Any]) -> str:
    """The rank precision as a reader of the method page says it."""
    if precision.get("decimals") is None:
        return "chỉ coi là bằng nhau khi chênh lệch do sai số làm tròn máy tính"
    of = "tỷ lệ (chỉ số)" if precision.get("of") == "ratio" else "điểm"
    return f"bằng nhau khi làm tròn {precision['decimals']} chữ số thập phân của {of}"


def _rules(level: LevelData) -> list[dict[str, Any]]:
    """Which rules changed whose points, in this snapshot."""
    totals = level.totals
    names = dict(zip(totals["unit_id"], totals["unit_name"], strict=True))
    rules: list[dict[str, Any]] = []
    if level.audit is not None:
        # What the scoring recorded for every leaf (leaf_scores.rule_applied).
        for (rule,), part in sorted(level.audit.partition_by("rule", as_dict=True).items()):
            part = part.sort("n_leaves", "unit_id", descending=[True, False])
            rules.append(
                {
                    "rule": f"{RULE_NAMES.get(rule, 'Quy tắc khác')} ({rule})",
                    "count": part.height,
                    "who": [
                        f"{names.get(r['unit_id'], r['unit_id'])} ({r['n_leaves']} chỉ số)"
                        for r in part.to_dicts()
                    ],
                }
            )
    else:
        missing = totals.filter(pl.col("n_missing") > 0).sort("n_missing", descending=True)
        rules.append(
            {
                "rule": RULE_NAMES.get(f"missing.{level.params.get('missing')}")
                or f"{PARAM_LABELS['missing']}: {level.params.get('missing')}",
                "count": missing.height,
                "who": [f"{r['unit_name']} ({r['n_missing']} chỉ số)" for r in missing.to_dicts()],
            }
        )
    adjusted = (
        level.adjustments.group_by("unit_id").len().sort("len", "unit_id", descending=[True, False])
    )
    rules.append(
        {
            "rule": "Thẩm định điều chỉnh giá trị tự đánh giá (giá trị thẩm định được dùng)",
            "count": adjusted.height,
            "who": [
                f"{names.get(r['unit_id'], r['unit_id'])} ({r['len']} chỉ số)"
                for r in adjusted.to_dicts()
            ],
        }
    )
    if level.override:
        rules.append(
            {
                "rule": "Cho phép chấm điểm dù kiểm tra chặn không đạt (ghi nhận)",
                "count": 1,
                "who": [level.override],
            }
        )
    return rules


def write_method_page(site: Site, data: YearData) -> Path:
    levels = []
    for level in data.levels:
        fw = level.framework
        comps = level.component_nodes
        flagged = [
            {
                "name": r["unit_name"],
                "flags": ", ".join(
                    f
                    for f, on in (
                        ("không có DVCTT", not r["has_dvctt"]),
                        ("không có đơn vị trực thuộc", not r["has_subordinates"]),
                        ("đơn vị đặc thù", r["is_special"]),
                    )
                    if on
                ),
                "source": SOURCE_VALUES.get(r["flags_source"], r["flags_source"]),
            }
            for r in level.flagged_units.to_dicts()
        ]
        levels.append(
            {
                "level": level,
                "fw": fw,
                "source": _source_rows(fw.source),
                "snap": level.snapshot,
                "params": _params_rows(level.params),
                "n_components": comps.height,
                "n_assumed": int((comps["source"] == "assumed").sum()),
                "n_pillars": level.pillar_nodes.height,
                "rules": _rules(level),
                "flagged": flagged,
                "method_snapshots": [
                    {"method": METHOD_NAMES.get(m, m), "id": sid}
                    for m, sid in level.method_snapshots.items()
                ],
                "uncertainty": level.uncertainty is not None,
                "scope_changes": data.scope_changes.get(level.level),
                "dvctt_scope": level.params.get("rules", {}).get("dvctt_scope"),
                "reading_differences": reading_differences(
                    level.totals, level.pillars, fw.bands, fw.reading
                ),
            }
        )
    return write_site_page(
        site,
        site.out / str(data.year) / "phuong-phap.html",
        "method.html",
        **page_context(site, data, "../", "method"),
        title=f"Phương pháp – DTI {data.year}",
        data=data,
        levels=levels,
        provenance=data.provenance,
    )
