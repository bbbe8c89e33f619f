"""Validate DTI tables with Great Expectations 1.x suites kept as JSON in ``expectations/``.

Each suite file (``expectations/<suite>.json``) is an ``ExpectationSuite`` in the form
``ExpectationSuite.to_json_dict()`` produces. Every expectation carries in its ``meta``:

- ``name``: a stable identifier, reported as ``ExpectationOutcome.expectation``;
- ``blocking``: whether a failure must stop scoring;
- ``description_vi`` / ``description_en``: what is checked;
- ``example`` (optional): a ``str.format`` template over the table's columns (plus ``_row``, the
  0-based row position) rendering each failing row, e.g. ``"{unit_id} / {indicator_id}: {value}"``;
- ``fail_on_empty`` (optional): report failure when the table has no rows.

Parameters only the caller knows are GX suite parameters, ``{"$PARAMETER": "unit_ids"}``, filled at
run time from a :class:`ValidationContext` (see ``_CONTEXT_PARAMETERS``). Per-row conditions that
need the context (per-indicator bounds) are computed in polars as derived Boolean columns before the
frame is handed to GX as pandas (GX cannot validate polars frames; SQL datasources fail on DuckDB).

Great Expectations is imported lazily: importing it takes seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import polars as pl

from pipelines.validate.context import (
    _CONTEXT_PARAMETERS,
    ValidationContext,
    _add_derived_columns,
)
from pipelines.validate.outcomes import (
    ExpectationOutcome,
    _ExpectationResult,
    _outcome,
    blocking_failures,
    outcomes_frame,
)
from pipelines.validate.suites import (
    _FULL_ROW_LISTS,
    _LOCK,
    _RESULT_FORMAT,
    DEFAULT_EXPECTATIONS_DIR,
    _state,
)

__all__ = [
    "DEFAULT_EXPECTATIONS_DIR",
    "ExpectationOutcome",
    "SuiteRequest",
    "SuiteRun",
    "ValidationContext",
    "blocking_failures",
    "outcomes_frame",
    "run_suite",
    "validate_suite",
    "validate_suites",
]


def run_suite(
    suite_name: str,
    frame: pl.DataFrame,
    context: ValidationContext,
    expectations_dir: Path | None = None,
) -> list[ExpectationOutcome]:
    """The outcomes of :func:`validate_suite` (one per expectation, in suite-file order)."""
    return validate_suite(suite_name, frame, context, expectations_dir).outcomes


@dataclass(frozen=True)
class SuiteRun:
    """One validation of a frame by a suite: the project's outcomes and GX's own result."""

    outcomes: list[ExpectationOutcome]
    document: dict[str, Any]  # GX's result as JSON, long row lists trimmed (Data Docs)
    gx_version: str


@dataclass(frozen=True)
class SuiteRequest:
    """A frame to validate with ``<expectations_dir>/<suite>.json`` (see :func:`validate_suite`)."""

    suite: str
    frame: pl.DataFrame
    context: ValidationContext


def validate_suite(
    suite_name: str,
    frame: pl.DataFrame,
    context: ValidationContext,
    expectations_dir: Path | None = None,
) -> SuiteRun:
    """Validate ``frame`` against ``<expectations_dir>/<suite_name>.json``.

    Derived columns the suite references (``value_in_range``, ``value_matches_source``,
    ``value_parsed``) are (re)computed from ``context``; ``{"$PARAMETER": ...}`` placeholders are
    filled from ``context``. The GX context and loaded suites are cached per process (a suite file
    is reloaded when its modification time changes).

    Returns one outcome per expectation, in the order of the suite file, with GX's result
    document. Failures are reported, never raised; a malformed suite file raises ``ValueError``.
    """
    request = SuiteRequest(suite_name, frame, context)
    return validate_suites([request], expectations_dir)[0]


def validate_suites(
    requests: Sequence[SuiteRequest], expectations_dir: Path | None = None
) -> list[SuiteRun]:
    """:func:`validate_suite` for several frames (a year's levels and suites), in request order.

    GX's validation is pure Python, ~0.3 s per frame of a province's year: the runs go to
    worker processes on every core (``pipelines.parallel``); the frames are prepared
    (derived columns, pandas) and the outcomes read here, in the calling process.
    """
    from pipelines.parallel import run_jobs

    directory = Path(expectations_dir) if expectations_dir is not None else DEFAULT_EXPECTATIONS_DIR
    with _LOCK:
        state = _state()
        prepared = []
        for request in requests:
            loaded = state.suite((directory / f"{request.suite}.json").resolve())
            table = _add_derived_columns(request.frame, loaded.derived_columns, request.context)
            parameters = {
                name: _CONTEXT_PARAMETERS[name](request.context) for name in loaded.parameters
            }
            # pandas made here: polars must not run in a worker process
            job = partial(_gx_run, loaded.path, table.to_pandas(), parameters)
            prepared.append((loaded, table, job))
        results = run_jobs([job for _, _, job in prepared], min_jobs_per_worker=1)
    runs = []
    for request, (loaded, table, _), (by_name, document) in zip(
        requests, prepared, results, strict=True
    ):
        outcomes = [
            _outcome(request.suite, spec, by_name.get(spec.name), table) for spec in loaded.specs
        ]
        runs.append(SuiteRun(outcomes, document, state.gx.__version__))
    return runs


def _gx_run(
    suite: Path, table: Any, parameters: dict[str, Any]
) -> tuple[dict[str, _ExpectationResult], dict[str, Any]]:
    """GX's validation of the pandas ``table`` by the loaded ``suite`` file: each expectation's
    result by name, and the JSON document. Picklable (it may run in a worker process, forked
    from the process that loaded the suite, whose GX context it inherits)."""
    result = (
        _state()
        .suite(suite)
        .validation_definition.run(
            batch_parameters={"dataframe": table},
            expectation_parameters=parameters,
            result_format=dict(_RESULT_FORMAT),  # a copy: GX adds its defaults to it in place
        )
    )
    by_name = {
        r.expectation_config.meta.get("name"): _ExpectationResult(
            r.success, dict(r.result or {}), r.exception_info
        )
        for r in result.results
    }
    # Dropped before serialising, not after: on a table with many failing rows, converting
    # the full lists to JSON only to throw them away is most of to_json_dict's time.
    for entry in result.results:
        for key in _FULL_ROW_LISTS:
            (entry.result or {}).pop(key, None)
    return by_name, result.to_json_dict()
