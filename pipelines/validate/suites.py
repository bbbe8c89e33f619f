"""The suite files of ``expectations/`` (their conventions checked on reading) and the one
Great Expectations context per process they are loaded into."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.validate.context import _CONTEXT_PARAMETERS, _DERIVED_COLUMNS

DEFAULT_EXPECTATIONS_DIR = Path(__file__).resolve().parents[2] / "expectations"
_SEVERITY_BY_BLOCKING = {True: "critical", False: "warning"}


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

        data = read_suite_file(path)
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


def read_suite_file(path: Path) -> dict[str, Any]:
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
