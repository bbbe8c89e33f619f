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

import json
import string
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import polars as pl

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

DEFAULT_EXPECTATIONS_DIR = Path(__file__).resolve().parents[2] / "expectations"
MAX_EXAMPLES = 20
ROW_FIELD = "_row"
EMPTY_TABLE_NOTE_VI = " Bảng rỗng (0 dòng): không có dữ liệu để đánh giá."
EMPTY_TABLE_EXAMPLE = "bảng rỗng / empty table: 0 rows"
_SEVERITY_BY_BLOCKING = {True: "critical", False: "warning"}


@dataclass(frozen=True)
class ValidationContext:
    """What only the caller knows about the table being validated (one year and level)."""

    year: int
    level: str
    unit_ids: frozenset[str]
    # leaf indicator id -> (min, max) allowed raw value; None means unbounded on that side
    indicator_bounds: dict[str, tuple[float | None, float | None]]
    framework_version: str


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


# Suite parameter name -> its value for a context. The JSON suites may reference only these.
_CONTEXT_PARAMETERS: dict[str, Callable[[ValidationContext], list[Any]]] = {
    "year_set": lambda c: [c.year],
    "level_set": lambda c: [c.level],
    "unit_ids": lambda c: sorted(c.unit_ids),
    "indicator_ids": lambda c: sorted(c.indicator_bounds),
    "framework_version_set": lambda c: [c.framework_version],
}


def _value_in_range(frame: pl.DataFrame, context: ValidationContext) -> pl.Expr | None:
    if not {"indicator_id", "value"} <= set(frame.columns):
        return None
    mins = {k: lo for k, (lo, _) in context.indicator_bounds.items() if lo is not None}
    maxs = {k: hi for k, (_, hi) in context.indicator_bounds.items() if hi is not None}
    indicator = pl.col("indicator_id").cast(pl.String)
    lo = indicator.replace_strict(mins, default=None, return_dtype=pl.Float64)
    hi = indicator.replace_strict(maxs, default=None, return_dtype=pl.Float64)
    value = pl.col("value").cast(pl.Float64)
    # Missing values belong to the completeness check and unknown indicators to indicator_known;
    # NaN compares false both ways, so it is reported as out of range.
    within = (lo.is_null() | (value >= lo)) & (hi.is_null() | (value <= hi))
    return (value.is_null() | within).fill_null(True)


def _value_matches_source(frame: pl.DataFrame, context: ValidationContext) -> pl.Expr | None:
    if not {"value", "self_value", "appraised_value"} <= set(frame.columns):
        return None
    expected = pl.coalesce(pl.col("appraised_value"), pl.col("self_value")).cast(pl.Float64)
    return pl.col("value").cast(pl.Float64).eq_missing(expected)


def _value_parsed(frame: pl.DataFrame, context: ValidationContext) -> pl.Expr | None:
    if not {"raw_text", "value"} <= set(frame.columns):
        return None
    text = pl.col("raw_text").cast(pl.String).str.strip_chars()
    return (text.is_null() | (text == "") | pl.col("value").is_not_null()).fill_null(True)


def _unit_value_share(frame: pl.DataFrame, context: ValidationContext) -> pl.Expr | None:
    """Per unit (on each of its rows): the share of its rows that carry a value, 4 decimals.
    Indicators a file has no row for at all are reported per submission (missing_indicators)."""
    if not {"unit_id", "value"} <= set(frame.columns):
        return None
    share = pl.col("value").is_not_null().cast(pl.Float64).mean().over("unit_id")
    return share.round(4)


# Derived columns, recomputed from the context whenever a suite references them.
_DERIVED_COLUMNS: dict[str, Callable[[pl.DataFrame, ValidationContext], pl.Expr | None]] = {
    "value_in_range": _value_in_range,
    "value_matches_source": _value_matches_source,
    "value_parsed": _value_parsed,
    "unit_value_share": _unit_value_share,
}


@dataclass(frozen=True)
class _ExpectationSpec:
    name: str
    blocking: bool
    description: str
    example: str | None
    fail_on_empty: bool


@dataclass(frozen=True)
class _LoadedSuite:
    path: Path
    mtime_ns: int
    specs: tuple[_ExpectationSpec, ...]
    derived_columns: tuple[str, ...]
    parameters: frozenset[str]
    validation_definition: Any


# COMPLETE gives every failing row position, so examples can be deduplicated and counted; SUMMARY
# would stop at the first 20 rows. The index query (the failing positions again, as a pandas
# expression) is left out of the stored document, so GX need not build it.
_RESULT_FORMAT = {"result_format": "COMPLETE", "return_unexpected_index_query": False}

# COMPLETE results list every failing row; Data Docs show the partial lists (as SUMMARY does),
# and the full lists would make a stored document grow with the data.
_FULL_ROW_LISTS = ("unexpected_list", "unexpected_index_list", "unexpected_index_query")


class _GxState:
    """One ephemeral GX context per process, with the suites loaded into it."""

    def __init__(self) -> None:
        import great_expectations as gx
        import tqdm

        # GX makes tqdm bars (disabled ones too), and the first bar starts tqdm's monitor thread:
        # a thread alive in the process keeps pipelines.parallel from forking its workers.
        tqdm.tqdm.monitor_interval = 0
        from great_expectations.data_context.types.base import (
            DataContextConfig,
            InMemoryStoreBackendDefaults,
            ProgressBarsConfig,
        )

        self.gx = gx
        # The default ephemeral config creates temporary docs sites and shows tqdm bars on stderr.
        config = DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
            analytics_enabled=False,
            progress_bars=ProgressBarsConfig(globally=False),
        )
        self.context = gx.get_context(mode="ephemeral", project_config=config)
        self.datasource = self.context.data_sources.add_pandas(name="dti")
        self.suites: dict[Path, _LoadedSuite] = {}
        self._counter = 0

    def suite(self, path: Path) -> _LoadedSuite:
        mtime_ns = path.stat().st_mtime_ns
        loaded = self.suites.get(path)
        if loaded is None or loaded.mtime_ns != mtime_ns:
            loaded = self._load(path, mtime_ns)
            self.suites[path] = loaded
        return loaded

    def _load(self, path: Path, mtime_ns: int) -> _LoadedSuite:
        from great_expectations.core.expectation_suite import ExpectationSuite
        from great_expectations.expectations.expectation_configuration import (
            ExpectationConfiguration,
        )

        data = _read_suite_file(path)
        # ExpectationSuite(expectations=[dict, ...]) logs and drops invalid entries; building each
        # expectation here makes a broken suite file raise instead. Ids (written by to_json_dict)
        # are dropped: GX refuses an expectation with an id as "belonging to another suite".
        expectations = [
            ExpectationConfiguration(
                **{k: val for k, val in entry.items() if k != "id"}
            ).to_domain_obj()
            for entry in data["expectations"]
        ]
        self._counter += 1
        # GX names must be unique in the context; a reloaded or second directory gets a new one.
        gx_name = f"{data['name']}#{self._counter}"
        suite = self.context.suites.add(
            ExpectationSuite(
                name=gx_name,
                expectations=expectations,
                meta=data.get("meta"),
                notes=data.get("notes"),
            )
        )
        asset = self.datasource.add_dataframe_asset(name=gx_name)
        batch_definition = asset.add_batch_definition_whole_dataframe(name="whole")
        validation_definition = self.context.validation_definitions.add(
            self.gx.ValidationDefinition(name=gx_name, data=batch_definition, suite=suite)
        )
        specs = tuple(
            _ExpectationSpec(
                name=entry["meta"]["name"],
                blocking=entry["meta"]["blocking"],
                description=entry["meta"]["description_vi"],
                example=entry["meta"].get("example"),
                fail_on_empty=bool(entry["meta"].get("fail_on_empty", False)),
            )
            for entry in data["expectations"]
        )
        columns = {c for entry in data["expectations"] for c in _kwarg_columns(entry["kwargs"])}
        return _LoadedSuite(
            path=path,
            mtime_ns=mtime_ns,
            specs=specs,
            derived_columns=tuple(c for c in _DERIVED_COLUMNS if c in columns),
            parameters=frozenset(_referenced_parameters(data["expectations"])),
            validation_definition=validation_definition,
        )


_STATE: _GxState | None = None
_LOCK = threading.Lock()


def _state() -> _GxState:
    global _STATE
    if _STATE is None:
        _STATE = _GxState()
    return _STATE


def _kwarg_columns(kwargs: dict[str, Any]) -> list[str]:
    columns = [kwargs["column"]] if isinstance(kwargs.get("column"), str) else []
    return columns + [c for c in kwargs.get("column_list", []) if isinstance(c, str)]


def _referenced_parameters(expectations: Iterable[dict[str, Any]]) -> set[str]:
    return {
        value["$PARAMETER"]
        for entry in expectations
        for value in entry["kwargs"].values()
        if isinstance(value, dict) and "$PARAMETER" in value
    }


def _read_suite_file(path: Path) -> dict[str, Any]:
    """Read a suite file and check the project's conventions, so mistakes fail loudly."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data.get("name"), str) or not data["name"]:
        raise ValueError(f"{path}: suite needs a non-empty 'name'")
    expectations = data.get("expectations")
    if not isinstance(expectations, list) or not expectations:
        raise ValueError(f"{path}: suite needs a non-empty 'expectations' list")
    seen: set[str] = set()
    for index, entry in enumerate(expectations):
        meta = entry.get("meta") or {}
        where = f"{path}: expectation #{index} ({entry.get('type')})"
        name = meta.get("name")
        if not isinstance(name, str) or not name:
            raise ValueError(f"{where}: meta.name is required")
        if name in seen:
            raise ValueError(f"{where}: duplicate meta.name {name!r}")
        seen.add(name)
        if not isinstance(meta.get("blocking"), bool):
            raise ValueError(f"{where}: meta.blocking must be true or false")
        for key in ("description_vi", "description_en"):
            if not isinstance(meta.get(key), str) or not meta[key]:
                raise ValueError(f"{where}: meta.{key} is required")
        severity = entry.get("severity")
        if severity is not None and severity != _SEVERITY_BY_BLOCKING[meta["blocking"]]:
            raise ValueError(
                f"{where}: severity {severity!r} disagrees with meta.blocking={meta['blocking']}"
            )
        if not isinstance(entry.get("kwargs"), dict):
            raise ValueError(f"{where}: kwargs must be an object")
    unknown = _referenced_parameters(expectations) - set(_CONTEXT_PARAMETERS)
    if unknown:
        raise ValueError(
            f"{path}: unknown context parameter(s) {sorted(unknown)}; "
            f"known: {sorted(_CONTEXT_PARAMETERS)}"
        )
    return data


def _add_derived_columns(
    frame: pl.DataFrame, names: Iterable[str], context: ValidationContext
) -> pl.DataFrame:
    exprs = []
    for name in names:
        expr = _DERIVED_COLUMNS[name](frame, context)
        if expr is not None:
            exprs.append(expr.alias(name))
    return frame.with_columns(exprs) if exprs else frame


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
        .filter(pl.col(ROW_FIELD).is_in(pl.Series(indices, dtype=pl.UInt32)))
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


@dataclass(frozen=True)
class _ExpectationResult:
    """What the outcome of one expectation needs from GX's result (picklable: it comes back
    from a worker process)."""

    success: bool | None
    result: dict[str, Any]
    exception_info: Any


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
