"""GX's results in the project's terms: one :class:`ExpectationOutcome` per expectation, with
examples of the failing rows rendered from the suite's ``example`` template."""

from __future__ import annotations

import json
import string
from dataclasses import dataclass
from typing import Any

import polars as pl

from pipelines.validate.suites import _ExpectationSpec

MAX_EXAMPLES = 20
ROW_FIELD = "_row"
EMPTY_TABLE_NOTE_VI = " Bảng rỗng (0 dòng): không có dữ liệu để đánh giá."
EMPTY_TABLE_EXAMPLE = "bảng rỗng / empty table: 0 rows"


@dataclass(frozen=True)
class ExpectationOutcome:
    """The result of one expectation of a suite, in the project's terms."""

    suite: str
    expectation: str
    success: bool
    blocking: bool
    description: str
    unexpected_count: int
    unexpected_examples: list[str]


@dataclass(frozen=True)
class _ExpectationResult:
    """What the outcome of one expectation needs from GX's result (picklable: it comes back
    from a worker process)."""

    success: bool | None
    result: dict[str, Any]
    exception_info: Any


def _exception_messages(info: Any) -> list[str]:
    if not isinstance(info, dict):
        return []
    # Expectation-level errors use one flat dict; metric errors are keyed by metric id.
    entries = [info] if "raised_exception" in info else list(info.values())
    messages = [
        str(entry.get("exception_message") or "unknown error")
        for entry in entries
        if isinstance(entry, dict) and entry.get("raised_exception")
    ]
    return list(dict.fromkeys(messages))


def _render(value: Any) -> str:
    return "null" if value is None else str(value)


class _Row(dict):
    def __missing__(self, key: str) -> str:
        return "?"


def _row_examples(frame: pl.DataFrame, indices: list[int], template: str | None) -> list[str]:
    if template is None:
        template = f"{{{ROW_FIELD}}}"
    fields = {f for _, f, _, _ in string.Formatter().parse(template) if f}
    columns = [c for c in frame.columns if c in fields and c != ROW_FIELD]
    rows = (
        frame.select(columns)
        .with_row_index(ROW_FIELD)
        .filter(pl.col(ROW_FIELD).is_in(pl.Series(indices, dtype=pl.UInt32).implode()))
    )
    counts: dict[str, int] = {}
    for row in rows.iter_rows(named=True):
        text = template.format_map(_Row({k: _render(v) for k, v in row.items()}))
        counts[text] = counts.get(text, 0) + 1
    return [f"{text} (×{n})" if n > 1 else text for text, n in counts.items()][:MAX_EXAMPLES]


def _outcome(
    suite_name: str,
    spec: _ExpectationSpec,
    result: _ExpectationResult | None,
    frame: pl.DataFrame,
) -> ExpectationOutcome:
    description = spec.description
    if result is None:
        return ExpectationOutcome(
            suite_name,
            spec.name,
            False,
            spec.blocking,
            description,
            0,
            ["lỗi / error: Great Expectations returned no result for this expectation"],
        )
    details = result.result or {}
    success = bool(result.success)
    unexpected_count = int(details.get("unexpected_count") or 0)
    examples: list[str] = []
    indices = details.get("unexpected_index_list")
    missing = (details.get("details") or {}).get("mismatched", {}).get("missing")
    if indices:
        examples = _row_examples(frame, [int(i) for i in indices], spec.example)
    elif missing:
        unexpected_count = len(missing)
        examples = [f"thiếu cột / missing column: {c}" for c in missing][:MAX_EXAMPLES]
    errors = _exception_messages(result.exception_info)
    if errors:
        success = False
        examples = [f"lỗi / error: {e}" for e in errors] + examples
    if spec.fail_on_empty and frame.height == 0:
        success = False
        description += EMPTY_TABLE_NOTE_VI
        examples = [EMPTY_TABLE_EXAMPLE]
    return ExpectationOutcome(
        suite=suite_name,
        expectation=spec.name,
        success=success,
        blocking=spec.blocking,
        description=description,
        unexpected_count=unexpected_count,
        unexpected_examples=examples[:MAX_EXAMPLES],
    )


def blocking_failures(outcomes: list[ExpectationOutcome]) -> list[ExpectationOutcome]:
    """Return the outcomes that failed and must stop scoring."""
    return [o for o in outcomes if o.blocking and not o.success]


def outcomes_frame(outcomes: list[ExpectationOutcome], year: int, level: str) -> pl.DataFrame:
    """Return outcomes as a table; ``unexpected_examples`` is a JSON list in a String column."""
    return pl.DataFrame(
        {
            "year": [year] * len(outcomes),
            "level": [level] * len(outcomes),
            "suite": [o.suite for o in outcomes],
            "expectation": [o.expectation for o in outcomes],
            "success": [o.success for o in outcomes],
            "blocking": [o.blocking for o in outcomes],
            "description": [o.description for o in outcomes],
            "unexpected_count": [o.unexpected_count for o in outcomes],
            "unexpected_examples": [
                json.dumps(o.unexpected_examples, ensure_ascii=False) for o in outcomes
            ],
        },
        schema={
            "year": pl.Int32,
            "level": pl.String,
            "suite": pl.String,
            "expectation": pl.String,
            "success": pl.Boolean,
            "blocking": pl.Boolean,
            "description": pl.String,
            "unexpected_count": pl.Int64,
            "unexpected_examples": pl.String,
        },
    )
