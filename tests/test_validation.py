"""Tests of pipelines/validate/validation.py and the suites in expectations/ on small hand-built
frames."""

from __future__ import annotations

import json
import math
import os
import shutil
from functools import partial
from pathlib import Path

import polars as pl
import pytest

from pipelines import parallel
from pipelines.validate import suites
from pipelines.validate import validation as v
from pipelines.validate.outcomes import EMPTY_TABLE_EXAMPLE
from pipelines.validate.validation import (
    DEFAULT_EXPECTATIONS_DIR,
    ExpectationOutcome,
    ValidationContext,
    blocking_failures,
    outcomes_frame,
    run_suite,
    validate_suite,
    validate_suites,
)

CTX = ValidationContext(
    year=2024,
    level="district",
    unit_ids=frozenset({"X-BMT-01", "X-BMT-02", "X-EAH-01"}),
    indicator_bounds={"P1.1": (0.0, 100.0), "P3.2": (0.0, 100.0), "P5.1": (None, 10.0)},
    framework_version="2534/QĐ-UBND@2024",
)

OBS_SCHEMA = {
    "year": pl.Int32,
    "level": pl.String,
    "unit_id": pl.String,
    "indicator_id": pl.String,
    "self_value": pl.Float64,
    "appraised_value": pl.Float64,
    "value": pl.Float64,
    "framework_id": pl.String,
    "framework_version": pl.String,
}

RAW_SCHEMA = {
    "submission_id": pl.String,
    "file_name": pl.String,
    "sheet": pl.String,
    "row_number": pl.Int32,
    "unit_id": pl.String,
    "year": pl.Int32,
    "indicator_id": pl.String,
    "kind": pl.String,
    "raw_text": pl.String,
    "value": pl.Float64,
}


def obs_row(
    unit: str,
    indicator: str,
    self_value: float | None,
    appraised: float | None = None,
    **overrides: object,
) -> dict[str, object]:
    row: dict[str, object] = {
        "year": 2024,
        "level": "district",
        "unit_id": unit,
        "indicator_id": indicator,
        "self_value": self_value,
        "appraised_value": appraised,
        "value": appraised if appraised is not None else self_value,
        "framework_id": "daklak-2534",
        "framework_version": "2534/QĐ-UBND@2024",
    }
    row.update(overrides)
    return row


def obs_frame(rows: list[dict[str, object]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=OBS_SCHEMA)


def clean_observations() -> list[dict[str, object]]:
    return [
        obs_row("X-BMT-01", "P1.1", 80.0),
        obs_row("X-BMT-01", "P3.2", 55.0, 50.0),
        obs_row("X-BMT-01", "P5.1", -3.0),
        obs_row("X-BMT-02", "P1.1", 100.0),
        obs_row("X-BMT-02", "P3.2", None),
        obs_row("X-EAH-01", "P5.1", 10.0),
    ]


def raw_row(
    row_number: int | None,
    kind: str | None,
    raw_text: str | None,
    value: float | None,
    **overrides: object,
) -> dict[str, object]:
    row: dict[str, object] = {
        "submission_id": "S-001",
        "file_name": "X-BMT-01_2024.xlsx",
        "sheet": "Biểu 1",
        "row_number": row_number,
        "unit_id": "X-BMT-01",
        "year": 2024,
        "indicator_id": "P1.1",
        "kind": kind,
        "raw_text": raw_text,
        "value": value,
    }
    row.update(overrides)
    return row


def raw_frame(rows: list[dict[str, object]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=RAW_SCHEMA)


def clean_raw_values() -> list[dict[str, object]]:
    return [
        raw_row(5, "self", "80", 80.0),
        raw_row(5, "appraised", "75,5", 75.5),
        raw_row(6, "self", "12", 12.0, indicator_id="P3.2"),
        raw_row(7, "self", "  ", None, indicator_id="P5.1"),
    ]


def by_name(outcomes: list[ExpectationOutcome]) -> dict[str, ExpectationOutcome]:
    return {o.expectation: o for o in outcomes}


def failed(outcomes: list[ExpectationOutcome]) -> set[str]:
    return {o.expectation for o in outcomes if not o.success}


# --- observations ---------------------------------------------------------------------------


def test_clean_observations_pass_every_expectation() -> None:
    outcomes = run_suite("observations", obs_frame(clean_observations()), CTX)
    names = [o.expectation for o in outcomes]
    assert names[:3] == ["columns_present", "has_observations", "year_not_null"]  # file order
    assert {
        "unique_unit_indicator",
        "unit_known",
        "indicator_known",
        "framework_version_matches",
        "value_completeness",
        "value_in_range",
        "year_matches",
    } <= set(names)
    assert failed(outcomes) == set()
    assert blocking_failures(outcomes) == []
    assert all(o.suite == "observations" for o in outcomes)


def test_duplicate_unit_indicator_is_blocking_and_reported() -> None:
    rows = [*clean_observations(), obs_row("X-BMT-01", "P1.1", 81.0)]
    outcome = by_name(run_suite("observations", obs_frame(rows), CTX))["unique_unit_indicator"]
    assert not outcome.success
    assert outcome.blocking
    assert outcome.unexpected_count == 2
    assert outcome.unexpected_examples == ["2024 / X-BMT-01 / P1.1 (×2)"]


def test_unit_not_in_registry_is_reported() -> None:
    rows = [
        *clean_observations(),
        obs_row("X-OLD-09", "P1.1", 1.0),
        obs_row("X-OLD-09", "P3.2", 2.0),
    ]
    outcomes = run_suite("observations", obs_frame(rows), CTX)
    outcome = by_name(outcomes)["unit_known"]
    assert (outcome.success, outcome.blocking, outcome.unexpected_count) == (False, True, 2)
    assert outcome.unexpected_examples == ["X-OLD-09 (×2)"]
    assert failed(outcomes) == {"unit_known"}


def test_indicator_not_in_framework_is_reported() -> None:
    rows = [*clean_observations(), obs_row("X-BMT-01", "P9.9", 1.0)]
    outcomes = run_suite("observations", obs_frame(rows), CTX)
    outcome = by_name(outcomes)["indicator_known"]
    assert (outcome.success, outcome.blocking, outcome.unexpected_count) == (False, True, 1)
    assert outcome.unexpected_examples == ["P9.9"]
    # Unknown indicators have no bounds: the range check leaves them to indicator_known.
    assert failed(outcomes) == {"indicator_known"}


def test_framework_version_mismatch_is_reported() -> None:
    rows = clean_observations()
    rows[0]["framework_version"] = "2534/QĐ-UBND@2023"
    outcome = by_name(run_suite("observations", obs_frame(rows), CTX))["framework_version_matches"]
    assert (outcome.success, outcome.blocking, outcome.unexpected_count) == (False, True, 1)
    assert outcome.unexpected_examples == ["daklak-2534 2534/QĐ-UBND@2023"]


def test_year_and_level_mismatch_are_reported() -> None:
    rows = clean_observations()
    rows[1]["year"] = 2023
    rows[2]["level"] = "commune"
    outcomes = by_name(run_suite("observations", obs_frame(rows), CTX))
    assert not outcomes["year_matches"].success and outcomes["year_matches"].blocking
    assert outcomes["year_matches"].unexpected_examples == ["X-BMT-01 / P3.2: 2023"]
    assert not outcomes["level_matches"].success and outcomes["level_matches"].blocking
    assert outcomes["level_matches"].unexpected_examples == ["X-BMT-01 / P5.1: commune"]


def test_null_keys_are_reported() -> None:
    rows = clean_observations()
    rows[0]["unit_id"] = None
    rows[3]["framework_version"] = None
    outcomes = run_suite("observations", obs_frame(rows), CTX)
    named = by_name(outcomes)
    assert named["unit_id_not_null"].unexpected_examples == ["dòng 0: P1.1"]
    assert named["framework_version_not_null"].unexpected_examples == ["X-BMT-02 / P1.1"]
    # GX's in-set checks skip nulls, which is why the not-null checks exist.
    assert failed(outcomes) == {"unit_id_not_null", "framework_version_not_null"}
    assert {o.expectation for o in blocking_failures(outcomes)} == failed(outcomes)


def test_completeness_below_threshold_fails_without_blocking() -> None:
    rows = [
        obs_row("X-BMT-01", "P1.1", 1.0),
        obs_row("X-BMT-01", "P3.2", None),
        obs_row("X-BMT-02", "P1.1", None),
        obs_row("X-BMT-02", "P3.2", None),
    ]
    outcomes = run_suite("observations", obs_frame(rows), CTX)
    outcome = by_name(outcomes)["value_completeness"]
    assert (outcome.success, outcome.blocking, outcome.unexpected_count) == (False, False, 3)
    assert outcome.unexpected_examples == ["X-BMT-01 / P3.2", "X-BMT-02 / P1.1", "X-BMT-02 / P3.2"]
    assert blocking_failures(outcomes) == []


def test_completeness_threshold_is_read_from_the_json(tmp_path: Path) -> None:
    suite = json.loads((DEFAULT_EXPECTATIONS_DIR / "observations.json").read_text("utf-8"))
    [entry] = [e for e in suite["expectations"] if e["meta"]["name"] == "value_completeness"]
    assert entry["kwargs"]["mostly"] == 0.5
    entry["kwargs"]["mostly"] = 0.9
    (tmp_path / "observations.json").write_text(json.dumps(suite), "utf-8")
    frame = obs_frame(clean_observations())  # 5 of 6 values present: 83%
    assert by_name(run_suite("observations", frame, CTX))["value_completeness"].success
    strict = by_name(run_suite("observations", frame, CTX, expectations_dir=tmp_path))
    assert not strict["value_completeness"].success
    assert strict["value_completeness"].unexpected_examples == ["X-BMT-02 / P3.2"]


def test_value_out_of_indicator_bounds_reports_unit_indicator_and_value() -> None:
    rows = [
        *clean_observations(),
        obs_row("X-EAH-01", "P3.2", 140.0),  # above max 100
        obs_row("X-EAH-01", "P1.1", -0.5),  # below min 0
        obs_row("X-BMT-02", "P5.1", 10.5),  # above max 10, no minimum
    ]
    outcomes = run_suite("observations", obs_frame(rows), CTX)
    outcome = by_name(outcomes)["value_in_range"]
    assert (outcome.success, outcome.blocking, outcome.unexpected_count) == (False, True, 3)
    assert outcome.unexpected_examples == [
        "X-EAH-01 / P3.2: 140.0",
        "X-EAH-01 / P1.1: -0.5",
        "X-BMT-02 / P5.1: 10.5",
    ]
    assert failed(outcomes) == {"value_in_range"}


def test_nan_value_is_out_of_range() -> None:
    rows = clean_observations()
    rows[0].update(self_value=math.nan, value=math.nan)
    outcome = by_name(run_suite("observations", obs_frame(rows), CTX))["value_in_range"]
    assert not outcome.success
    assert outcome.unexpected_examples == ["X-BMT-01 / P1.1: nan"]


def test_value_must_be_appraised_else_self() -> None:
    rows = clean_observations()
    rows[1]["value"] = 55.0  # the self value although an appraised value (50.0) exists
    outcome = by_name(run_suite("observations", obs_frame(rows), CTX))["value_matches_source"]
    assert (outcome.success, outcome.blocking) == (False, True)
    assert outcome.unexpected_examples == ["X-BMT-01 / P3.2: value=55.0, self=55.0, appraised=50.0"]


def test_missing_column_is_reported_not_raised() -> None:
    frame = obs_frame(clean_observations()).drop("framework_version")
    outcomes = by_name(run_suite("observations", frame, CTX))
    assert not outcomes["columns_present"].success
    assert outcomes["columns_present"].unexpected_examples == [
        "thiếu cột / missing column: framework_version"
    ]
    assert not outcomes["framework_version_matches"].success
    assert "framework_version" in outcomes["framework_version_matches"].unexpected_examples[0]


def test_empty_observations_validate_and_completeness_fails() -> None:
    outcomes = run_suite("observations", obs_frame([]), CTX)
    named = by_name(outcomes)
    assert named["unique_unit_indicator"].success
    assert named["unit_known"].success
    completeness = named["value_completeness"]
    assert not completeness.success and not completeness.blocking
    assert "Bảng rỗng" in completeness.description
    assert completeness.unexpected_examples == [EMPTY_TABLE_EXAMPLE]
    # nothing to score is itself blocking: a year is never scored before any valid submission
    assert named["has_observations"].blocking and not named["has_observations"].success
    assert failed(outcomes) == {"value_completeness", "has_observations"}


def test_frame_without_columns_does_not_crash() -> None:
    outcomes = run_suite("observations", pl.DataFrame(), CTX)
    assert by_name(outcomes)["columns_present"].unexpected_count == len(OBS_SCHEMA)
    assert {o.expectation for o in blocking_failures(outcomes)} == {
        o.expectation for o in outcomes if o.blocking
    }


# --- raw_values ----------------------------------------------------------------------------


def test_clean_raw_values_pass_every_expectation() -> None:
    outcomes = run_suite("raw_values", raw_frame(clean_raw_values()), CTX)
    assert {
        "submission_id_not_null",
        "sheet_not_null",
        "row_number_not_null",
        "kind_in_set",
        "unique_cell",
    } <= {o.expectation for o in outcomes}
    assert failed(outcomes) == set()


def test_raw_provenance_nulls_are_blocking() -> None:
    rows = clean_raw_values()
    rows[0]["submission_id"] = None
    rows[1]["sheet"] = None
    rows[2]["row_number"] = None
    outcomes = run_suite("raw_values", raw_frame(rows), CTX)
    named = by_name(outcomes)
    assert named["submission_id_not_null"].unexpected_examples == [
        "X-BMT-01_2024.xlsx / Biểu 1 / dòng 5"
    ]
    assert named["sheet_not_null"].unexpected_examples == ["X-BMT-01_2024.xlsx / dòng 5"]
    assert named["row_number_not_null"].unexpected_examples == [
        "X-BMT-01_2024.xlsx / Biểu 1: X-BMT-01 / P3.2"
    ]
    assert {"submission_id_not_null", "sheet_not_null", "row_number_not_null"} <= {
        o.expectation for o in blocking_failures(outcomes)
    }


def test_raw_kind_outside_set_is_reported() -> None:
    rows = clean_raw_values()
    rows[2]["kind"] = "tự đánh giá"
    outcomes = run_suite("raw_values", raw_frame(rows), CTX)
    outcome = by_name(outcomes)["kind_in_set"]
    assert (outcome.success, outcome.blocking, outcome.unexpected_count) == (False, True, 1)
    assert outcome.unexpected_examples == ["X-BMT-01_2024.xlsx / Biểu 1 / dòng 6: tự đánh giá"]
    assert failed(outcomes) == {"kind_in_set"}


def test_raw_duplicate_cell_is_reported() -> None:
    rows = [*clean_raw_values(), raw_row(5, "self", "81", 81.0)]
    outcome = by_name(run_suite("raw_values", raw_frame(rows), CTX))["unique_cell"]
    assert (outcome.success, outcome.blocking, outcome.unexpected_count) == (False, True, 2)
    assert outcome.unexpected_examples == ["S-001 / Biểu 1 / dòng 5 / self (×2)"]


def test_raw_unparsed_and_out_of_range_values_are_reported_not_blocking() -> None:
    rows = [
        *clean_raw_values(),
        raw_row(8, "self", "khoảng 80%", None),
        raw_row(9, "self", "140", 140.0, indicator_id="P3.2"),
    ]
    outcomes = run_suite("raw_values", raw_frame(rows), CTX)
    named = by_name(outcomes)
    assert named["value_parsed"].unexpected_examples == [
        "X-BMT-01_2024.xlsx / Biểu 1 / dòng 8 (self): 'khoảng 80%'"
    ]
    assert named["value_in_range"].unexpected_examples == [
        "X-BMT-01_2024.xlsx / Biểu 1 / dòng 9: X-BMT-01 / P3.2 (self): 140.0"
    ]
    assert failed(outcomes) == {"value_parsed", "value_in_range"}
    assert blocking_failures(outcomes) == []


def test_raw_unknown_unit_indicator_and_year_are_blocking() -> None:
    rows = [
        *clean_raw_values(),
        raw_row(10, "self", "1", 1.0, unit_id="X-OLD-09", indicator_id="P0.0", year=2023),
    ]
    outcomes = run_suite("raw_values", raw_frame(rows), CTX)
    named = by_name(outcomes)
    assert named["unit_known"].unexpected_examples == ["X-BMT-01_2024.xlsx: X-OLD-09"]
    assert named["indicator_known"].unexpected_examples == [
        "X-BMT-01_2024.xlsx / Biểu 1 / dòng 10: P0.0"
    ]
    assert named["year_matches"].unexpected_examples == [
        "X-BMT-01_2024.xlsx / Biểu 1 / dòng 10: 2023"
    ]
    assert {o.expectation for o in blocking_failures(outcomes)} == {
        "unit_known",
        "indicator_known",
        "year_matches",
    }


def test_empty_raw_values_validate() -> None:
    outcomes = run_suite("raw_values", raw_frame([]), CTX)
    assert failed(outcomes) == set()


@pytest.mark.forks
def test_suites_validated_together_in_worker_processes_equal_one_by_one(monkeypatch) -> None:
    """A year's levels and suites are validated at once on every core (forked workers): each
    outcome, failing rows' examples included, and each GX document equal a run on its own."""
    bad_obs = [*clean_observations(), obs_row("X-OLD-09", "P1.1", 1.0)]
    bad_raw = [*clean_raw_values(), raw_row(9, "self", "140", 140.0, indicator_id="P3.2")]
    requests = [
        v.SuiteRequest("observations", obs_frame(clean_observations()), CTX),
        v.SuiteRequest("raw_values", raw_frame(bad_raw), CTX),
        v.SuiteRequest("observations", obs_frame(bad_obs), CTX),
        v.SuiteRequest("raw_values", raw_frame(clean_raw_values()), CTX),
    ]
    alone = [validate_suite(r.suite, r.frame, r.context) for r in requests]
    monkeypatch.setenv(parallel.WORKERS_ENV, "2")
    worker_pids: list[int] = []
    real_run_jobs = parallel.run_jobs

    def run_jobs_noting_pids(jobs, **kwargs):
        done = real_run_jobs([partial(_pid_and_result, job) for job in jobs], **kwargs)
        worker_pids.extend(pid for pid, _ in done)
        return [result for _, result in done]

    monkeypatch.setattr(parallel, "run_jobs", run_jobs_noting_pids)
    together = validate_suites(requests)
    assert len(worker_pids) == 4 and os.getpid() not in worker_pids
    assert [run.outcomes for run in together] == [run.outcomes for run in alone]
    assert failed(together[1].outcomes) == {"value_in_range"}
    assert by_name(together[2].outcomes)["unit_known"].unexpected_examples == ["X-OLD-09"]

    def comparable(document: dict) -> dict:
        return {k: val for k, val in document.items() if k != "meta"}

    assert [comparable(r.document) for r in together] == [comparable(r.document) for r in alone]


# --- helpers, suite files, caching ------------------------------------------------------------


def test_examples_are_capped_at_twenty() -> None:
    rows = [obs_row(f"X-NEW-{i:02d}", "P1.1", 1.0) for i in range(30)]
    outcome = by_name(run_suite("observations", obs_frame(rows), CTX))["unit_known"]
    assert outcome.unexpected_count == 30
    assert outcome.unexpected_examples == [f"X-NEW-{i:02d}" for i in range(20)]


def test_outcomes_frame_schema_and_json_examples() -> None:
    rows = [*clean_observations(), obs_row("X-EAH-01", "P3.2", 140.0)]
    outcomes = run_suite("observations", obs_frame(rows), CTX)
    frame = outcomes_frame(outcomes, 2024, "district")
    assert frame.schema == pl.Schema(
        {
            "year": pl.Int32,
            "level": pl.String,
            "suite": pl.String,
            "expectation": pl.String,
            "success": pl.Boolean,
            "blocking": pl.Boolean,
            "description": pl.String,
            "unexpected_count": pl.Int64,
            "unexpected_examples": pl.String,
        }
    )
    assert frame.height == len(outcomes)
    row = frame.filter(pl.col("expectation") == "value_in_range").row(0, named=True)
    assert (row["year"], row["level"], row["success"], row["blocking"]) == (
        2024,
        "district",
        False,
        True,
    )
    assert json.loads(row["unexpected_examples"]) == ["X-EAH-01 / P3.2: 140.0"]
    assert outcomes_frame([], 2024, "district").height == 0


def test_blocking_failures_keeps_only_failed_blocking() -> None:
    def outcome(success: bool, blocking: bool) -> ExpectationOutcome:
        return ExpectationOutcome("s", f"{success}-{blocking}", success, blocking, "", 0, [])

    outcomes = [outcome(s, b) for s in (True, False) for b in (True, False)]
    assert [o.expectation for o in blocking_failures(outcomes)] == ["False-True"]


@pytest.mark.parametrize("suite_name", ["observations", "raw_values"])
def test_suite_files_follow_conventions_and_load_into_gx(suite_name: str) -> None:
    from great_expectations.core.expectation_suite import ExpectationSuite

    path = DEFAULT_EXPECTATIONS_DIR / f"{suite_name}.json"
    data = suites.read_suite_file(path)
    assert data["name"] == suite_name
    suite = ExpectationSuite(**data)
    assert len(suite.expectations) == len(data["expectations"])
    dumped = suite.to_json_dict()["expectations"]
    assert [e["meta"]["name"] for e in dumped] == [e["meta"]["name"] for e in data["expectations"]]
    for entry in dumped:
        assert entry["severity"] == ("critical" if entry["meta"]["blocking"] else "warning")


def test_observation_suite_blocking_flags() -> None:
    data = suites.read_suite_file(DEFAULT_EXPECTATIONS_DIR / "observations.json")
    blocking = {e["meta"]["name"]: e["meta"]["blocking"] for e in data["expectations"]}
    assert blocking["value_completeness"] is False
    for name in (
        "unique_unit_indicator",
        "unit_known",
        "indicator_known",
        "framework_version_matches",
        "value_in_range",
        "year_matches",
    ):
        assert blocking[name] is True, name


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda e: e["meta"].pop("blocking"), "meta.blocking"),
        (lambda e: e["meta"].pop("description_vi"), "meta.description_vi"),
        (lambda e: e["kwargs"].update(value_set={"$PARAMETER": "unit_list"}), "unit_list"),
        (lambda e: e.update(severity="warning"), "disagrees"),
    ],
)
def test_malformed_suite_file_raises(tmp_path: Path, mutate, message: str) -> None:
    suite = json.loads((DEFAULT_EXPECTATIONS_DIR / "observations.json").read_text("utf-8"))
    [entry] = [e for e in suite["expectations"] if e["meta"]["name"] == "unit_known"]
    mutate(entry)
    (tmp_path / "observations.json").write_text(json.dumps(suite), "utf-8")
    with pytest.raises(ValueError, match=message):
        run_suite("observations", obs_frame(clean_observations()), CTX, expectations_dir=tmp_path)


def test_suites_are_cached_and_reloaded_when_the_file_changes(tmp_path: Path) -> None:
    shutil.copy(DEFAULT_EXPECTATIONS_DIR / "observations.json", tmp_path / "observations.json")
    frame = obs_frame(clean_observations())
    run_suite("observations", frame, CTX, expectations_dir=tmp_path)
    path = (tmp_path / "observations.json").resolve()
    first = suites._state().suites[path]
    run_suite("observations", frame, CTX, expectations_dir=tmp_path)
    assert suites._state().suites[path] is first

    suite = json.loads(path.read_text("utf-8"))
    suite["expectations"] = [e for e in suite["expectations"] if e["meta"]["name"] == "unit_known"]
    path.write_text(json.dumps(suite), "utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, first.mtime_ns + 1_000_000))
    outcomes = run_suite("observations", frame, CTX, expectations_dir=tmp_path)
    assert [o.expectation for o in outcomes] == ["unit_known"]
    assert suites._state().suites[path] is not first


def test_suite_written_by_gx_to_json_dict_loads(tmp_path: Path) -> None:
    import great_expectations as gx
    from great_expectations.core.expectation_suite import ExpectationSuite

    data = suites.read_suite_file(DEFAULT_EXPECTATIONS_DIR / "observations.json")
    # A suite saved in a context gets ids, which to_json_dict writes out.
    saved = gx.get_context(mode="ephemeral").suites.add(ExpectationSuite(**data))
    dumped = saved.to_json_dict()
    assert all(e.get("id") for e in dumped["expectations"])
    (tmp_path / "observations.json").write_text(json.dumps(dumped), "utf-8")
    rows = [*clean_observations(), obs_row("X-EAH-01", "P3.2", 140.0)]
    outcomes = run_suite("observations", obs_frame(rows), CTX, expectations_dir=tmp_path)
    assert failed(outcomes) == {"value_in_range"}


def _pid_and_result(job):
    """The worker's pid beside a job's result (a picklable job: workers receive it pickled)."""
    return os.getpid(), job()
