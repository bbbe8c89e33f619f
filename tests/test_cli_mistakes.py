"""Every ``dti`` command answers a user's mistake — an unknown preset, a year or level the preset
does not have, a missing file or folder, a blank name, an empty result — with one line on stderr
that names the bad value and the valid ones, exit code 2, no traceback, before any heavy work.

The installed ``dti`` runs in a subprocess, as a user runs it: with no warehouse at all
(``bare``) or with a freshly created, empty one (``empty``).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click
import pytest
import yaml
from conftest import subprocess_env

from dti_cli.main import cli
from pipelines.paths import DATA_DIR

PRESETS = "daklak, hue, national-1726, national-922, ninhthuan, sonla, thanhhoa"
DAKLAK_YEARS = "2022–2024"
DAKLAK_LEVELS = ("department", "district", "commune")
# Dagster's yearly partitions are the completed years, in Vietnam's time zone
LAST_COMPLETED = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).year - 1
MISSING = "/nowhere/missing.csv"

OFFICER, ANALYST = "lỗi:", "error:"
DTI = str(Path(sys.executable).parent / "dti")  # the installed console script


def case(name, args, home, prefix, *expected, **marks):
    """One mistake: the command line, the home it runs in, the prefix of its language and the
    texts the line must contain (the bad value and the valid ones)."""
    return pytest.param(args, home, prefix, expected, id=name, **marks)


WRONG_PRESET = [
    case(f"{command}-preset", [*command.split(), *extra, "--preset", "daklk"], "bare", prefix,
         "'daklk'", PRESETS)
    for command, extra, prefix in [
        ("demo", [], OFFICER),
        ("run", [], OFFICER),
        ("template", ["--year", "2024", "--out", "{tmp}/t"], OFFICER),
        ("report", [], OFFICER),
        ("appraisal-report", ["--year", "2024", "--out", "{tmp}/a.xlsx"], OFFICER),
        ("history", ["--year", "2024", "--unit", "S-KHDT"], OFFICER),
        ("reingest", [], OFFICER),
        ("override", ["2024", "commune", "--by", "A", "--reason", "B"], OFFICER),
        ("publish", ["2024", "--level", "commune"], OFFICER),
        ("compare", ["--year", "2024", "--level", "commune"], ANALYST),
        ("uncertainty", ["--year", "2024", "--level", "commune"], ANALYST),
        ("coherence", ["--year", "2024", "--level", "commune"], ANALYST),
        ("strengths", ["--year", "2024", "--level", "commune"], ANALYST),
        ("trends", [], ANALYST),
        ("backfill", ["--years", "2024", "--framework-level", "commune"], ANALYST),
        ("portal", [], OFFICER),
        ("portal accounts", ["--year", "2024", "--out", "{tmp}/a.xlsx"], OFFICER),
    ]
]  # fmt: skip

WRONG_YEAR = [
    case(f"{command}-year-{bad}", [*command.split(), *extra], "bare", prefix, bad, DAKLAK_YEARS)
    for command, extra, bad, prefix in [
        ("run", ["--year", "2030"], "2030", OFFICER),
        ("run", ["--year", "2019"], "2019", OFFICER),
        ("run", ["--year", "twenty"], "'twenty'", OFFICER),
        ("demo", ["--years", "2030"], "2030", OFFICER),
        ("demo", ["--years", "2025-2021"], "'2025-2021'", OFFICER),
        ("template", ["--year", "2030", "--out", "{tmp}/t"], "2030", OFFICER),
        ("report", ["--year", "2030"], "2030", OFFICER),
        ("appraisal-report", ["--year", "2019", "--out", "{tmp}/a.xlsx"], "2019", OFFICER),
        ("history", ["--year", "2019", "--unit", "S-KHDT"], "2019", OFFICER),
        ("reingest", ["--year", "2030"], "2030", OFFICER),
        ("override", ["2030", "commune", "--by", "A", "--reason", "B"], "2030", OFFICER),
        ("publish", ["2030", "--level", "commune"], "2030", OFFICER),
        ("compare", ["--year", "2030", "--level", "commune"], "2030", ANALYST),
        ("uncertainty", ["--year", "2030", "--level", "commune"], "2030", ANALYST),
        ("coherence", ["--year", "2030", "--level", "commune"], "2030", ANALYST),
        ("strengths", ["--year", "2030", "--level", "commune"], "2030", ANALYST),
        ("backfill", ["--years", "2030", "--framework-level", "commune"], "2030", ANALYST),
        ("backfill", ["--years", "2019"], "2019", ANALYST),
        ("portal", ["--year", "2030"], "2030", OFFICER),
        ("portal accounts", ["--year", "2030", "--out", "{tmp}/a.xlsx"], "2030", OFFICER),
    ]
]  # fmt: skip

WRONG_LEVEL = [
    case(f"{command}-level", [*command.split(), *extra], "bare", prefix, "'distric'",
         *DAKLAK_LEVELS)
    for command, extra, prefix in [
        ("template", ["--year", "2024", "--level", "distric", "--out", "{tmp}/t"], OFFICER),
        ("appraisal-report", ["--year", "2024", "--level", "distric", "--out", "{tmp}/a.xlsx"],
         OFFICER),
        ("override", ["2024", "distric", "--by", "A", "--reason", "B"], OFFICER),
        ("publish", ["2024", "--level", "distric"], OFFICER),
        ("compare", ["--year", "2024", "--level", "distric"], ANALYST),
        ("uncertainty", ["--year", "2024", "--level", "distric"], ANALYST),
        ("coherence", ["--year", "2024", "--level", "distric"], ANALYST),
        ("strengths", ["--year", "2024", "--level", "distric"], ANALYST),
        ("trends", ["--level", "distric"], ANALYST),
        ("backfill", ["--years", "2024", "--framework-level", "distric"], ANALYST),
    ]
]  # fmt: skip

MISSING_FILE = [
    case("run-inbox", ["run", "--year", "2024", "--inbox", "/nowhere/inbox"], "bare", OFFICER,
         "/nowhere/inbox"),
    case("receipt-file", ["receipt", MISSING], "empty", OFFICER, MISSING),
    case("receipt-no-warehouse", ["receipt", MISSING], "bare", OFFICER, "{home}"),
    case("history-unit", ["history", "--year", "2024", "--unit", "S-NOPE"], "bare", OFFICER,
         "'S-NOPE'", "daklak.csv"),
    case("template-unit", ["template", "--year", "2024", "--unit", "S-NOPE", "--out", "{tmp}/t"],
         "bare", OFFICER, "'S-NOPE'", "daklak.csv"),
    case("appraisal-report-suffix", ["appraisal-report", "--year", "2024", "--out", "{tmp}/a.pdf"],
         "bare", OFFICER, "a.pdf", ".xlsx", ".csv"),
    case("score", ["score", "--framework", MISSING, "--data", MISSING, "--out", "{tmp}/s.csv"],
         "bare", ANALYST, MISSING),
    case("compare-files", ["compare", "--framework", MISSING, "--data", MISSING], "bare",
         ANALYST, MISSING),
    case("uncertainty-from", ["uncertainty", "--replay", "1", "--from", "/nowhere/run"], "bare",
         ANALYST, "/nowhere/run"),
    case("coherence-files", ["coherence", "--framework", MISSING, "--data", MISSING], "bare",
         ANALYST, MISSING),
    case("strengths-files", ["strengths", "--framework", MISSING, "--data", MISSING], "bare",
         ANALYST, MISSING),
    case("trends-files", ["trends", "--framework", MISSING, "--data", MISSING], "bare", ANALYST,
         MISSING),
    case("backfill-framework", ["backfill", "--years", "2024", "--framework-level",
         f"commune={MISSING}"], "bare", ANALYST, MISSING),
    case("coinr-export", ["coinr", "export", "--framework", MISSING, "--out-dir", "{tmp}/c"],
         "bare", ANALYST, MISSING),
    case("coinr-import", ["coinr", "import", "--imeta", MISSING, "--out", "{tmp}/f.yaml"],
         "bare", ANALYST, MISSING),
    case("framework-check", ["framework", "check", MISSING], "bare", ANALYST, MISSING),
    case("schema-no-warehouse", ["schema"], "bare", ANALYST, "{home}"),
    case("portal-accounts-folder", ["portal", "accounts", "--year", "2024", "--out",
         "/nowhere/dir/a.xlsx"], "bare", OFFICER, "/nowhere/dir"),
    case("portal-accounts-suffix", ["portal", "accounts", "--year", "2024", "--out",
         "{tmp}/a.csv"], "bare", OFFICER, "a.csv", ".xlsx"),
    case("portal-accounts-reset", ["portal", "accounts", "--year", "2024", "--out",
         "{tmp}/a.xlsx", "--reset", "S-NOPE"], "bare", OFFICER, "'S-NOPE'", "canbo"),
    case("verify-snapshots-no-warehouse", ["verify-snapshots"], "bare", ANALYST, "{home}"),
]  # fmt: skip

OTHER_MISTAKES = [
    case("override-blank-by", ["override", "2024", "commune", "--by", " ", "--reason", "B"],
         "empty", OFFICER, "--by"),
    case("override-blank-reason", ["override", "2024", "commune", "--by", "A", "--reason", ""],
         "empty", OFFICER, "--reason"),
    case("override-missing-reason", ["override", "2024", "commune", "--by", "A"], "empty",
         OFFICER, "--reason"),
    case("status-option", ["status", "--bogus"], "bare", OFFICER, "--bogus", "--help"),
    case("unknown-command", ["statsu"], "bare", ANALYST, "'statsu'"),
    case("publish-method", ["publish", "2024", "--level", "commune", "--method", "median"],
         "bare", OFFICER, "'median'", "points, minmax, zscore"),
    case("trends-method", ["trends", "--method", "median"], "bare", ANALYST, "'median'",
         "points, minmax, zscore"),
]  # fmt: skip

EMPTY_RESULT = [
    case("appraisal-report-empty", ["appraisal-report", "--year", "2024", "--out",
         "{tmp}/a.xlsx"], "empty", OFFICER, "2024"),
    case("report-empty", ["report", "--year", "2024"], "empty", OFFICER, "2024"),
    case("publish-empty", ["publish", "2024", "--level", "commune"], "empty", OFFICER, "2024",
         "commune"),
    case("backfill-empty", ["backfill", "--years", "2024", "--framework-level", "commune"],
         "empty", ANALYST, "2024", "commune"),
    case("trends-empty", ["trends", "--level", "commune"], "empty", ANALYST, "commune"),
    case("compare-empty", ["compare", "--year", "2024", "--level", "commune"], "empty",
         ANALYST, "2024", "commune"),
]  # fmt: skip

ALL_CASES = WRONG_PRESET + WRONG_YEAR + WRONG_LEVEL + MISSING_FILE + OTHER_MISTAKES + EMPTY_RESULT


@pytest.fixture(scope="module")
def homes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``bare``: no warehouse; ``empty``: a warehouse with its schema and nothing else."""
    from pipelines.store.warehouse import session

    bare = tmp_path_factory.mktemp("bare")
    empty = tmp_path_factory.mktemp("empty")
    (empty / "warehouse").mkdir()
    with session(empty / "warehouse" / "dti.duckdb"):
        pass
    return {"bare": bare, "empty": empty}


def run_dti(args: list[str], home: Path) -> subprocess.CompletedProcess:
    env = subprocess_env(home)
    env.pop("DTI_PRESET", None)
    return subprocess.run([DTI, *args], env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def outcomes(homes, tmp_path_factory) -> dict[str, tuple[subprocess.CompletedProcess, Path, Path]]:
    """Every case's run (a few processes at a time: each is mostly interpreter start-up), in a
    copy of its home, and the folder its ``{tmp}`` stood for."""

    def run_case(param) -> tuple[subprocess.CompletedProcess, Path, Path]:
        args, home, _, _ = param.values
        folder = tmp_path_factory.mktemp(param.id)
        own_home = folder.parent / f"{folder.name}-home"  # a warehouse of its own: no waiting
        shutil.copytree(homes[home], own_home)
        args = [arg.replace("{tmp}", str(folder)) for arg in args]
        return run_dti(args, own_home), own_home, folder

    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip((p.id for p in ALL_CASES), pool.map(run_case, ALL_CASES), strict=True))


def assert_one_line(result: subprocess.CompletedProcess, prefix: str, *expected: str) -> str:
    """Exit 2, nothing on stdout, one line on stderr with the prefix and every expected text."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert len(lines) == 1, result.stderr
    assert not result.stdout.strip(), result.stdout
    line = lines[0]
    assert line.startswith(prefix), line
    for text in expected:
        assert text in line, (text, line)
    return line


@pytest.mark.parametrize(("args", "home", "prefix", "expected"), ALL_CASES)
def test_a_mistake_is_one_line_with_exit_code_2(request, args, home, prefix, expected, outcomes):
    result, own_home, folder = outcomes[request.node.callspec.id]
    warehouse = str(own_home / "warehouse")
    assert_one_line(result, prefix, *[text.replace("{home}", warehouse) for text in expected])
    assert list(folder.iterdir()) == []  # nothing written: no empty workbook, no folder


def test_every_command_is_driven_with_a_mistake() -> None:
    """A command added to ``dti --help`` without a mistake case here fails this test."""
    ctx = click.Context(cli)
    commands = set()
    for name in cli.list_commands(ctx):
        command = cli.get_command(ctx, name)
        if isinstance(command, click.Group):
            commands |= {f"{name} {sub}" for sub in command.list_commands(ctx)}
        else:
            commands.add(name)
    driven = set()
    for param in ALL_CASES:
        args = param.values[0]
        driven.add(args[0] if args[0] in commands else " ".join(args[:2]))
    assert commands - driven == set()


@pytest.fixture(scope="module")
def future_preset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Đắk Lắk's preset with its years running to 2099, beyond the completed years."""
    spec = yaml.safe_load((DATA_DIR / "presets" / "daklak.yaml").read_text(encoding="utf-8"))
    preset = spec["preset"]
    preset["units"] = str(DATA_DIR / preset["units"])
    for level in preset["levels"].values():
        level["framework"] = str(DATA_DIR / level["framework"])
    preset["years"]["to"] = 2099
    path = tmp_path_factory.mktemp("presets") / "future.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize("command", [["run", "--year"], ["demo", "--years"]])
def test_a_year_not_yet_completed_never_reaches_dagster(command, future_preset, homes, tmp_path):
    """2099 is a year of the preset but not a partition of Dagster (completed years only)."""
    (tmp_path / "inbox").mkdir()
    args = [*command, "2099", "--preset", str(future_preset), "--inbox", str(tmp_path / "inbox")]
    if command[0] == "demo":
        args = args[:-2]
    result = run_dti(args, homes["bare"])
    assert_one_line(result, OFFICER, "2099", f"2022–{LAST_COMPLETED}")
    assert not (homes["bare"] / "dagster" / "storage").exists()


def test_a_preset_that_is_not_a_preset_file_is_one_line(homes, tmp_path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("preset:\n  id: broken\n", encoding="utf-8")
    result = run_dti(["template", "--preset", str(broken), "--year", "2024", "--out", "t"],
                     homes["bare"])  # fmt: skip
    assert_one_line(result, OFFICER, str(broken), "name, units, years, levels")


def test_a_preset_naming_a_missing_or_broken_framework_is_one_line(
    future_preset, homes, tmp_path
) -> None:
    """A framework file the preset names but that is missing (found when the preset is read) or
    not a framework (found when the command reads it: the ``dti`` group's guard)."""
    spec = yaml.safe_load(future_preset.read_text(encoding="utf-8"))
    spec["preset"]["levels"]["district"]["framework"] = "/nowhere/district.yaml"
    missing = tmp_path / "missing.yaml"
    missing.write_text(yaml.safe_dump(spec), encoding="utf-8")
    result = run_dti(["template", "--preset", str(missing), "--year", "2024", "--out", "t"],
                     homes["bare"])  # fmt: skip
    assert_one_line(result, OFFICER, str(missing), "levels.district.framework", "/nowhere/")

    not_framework = tmp_path / "f.yaml"
    not_framework.write_text("framework:\n  id: x\n", encoding="utf-8")
    spec["preset"]["levels"]["district"]["framework"] = str(not_framework)
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(spec), encoding="utf-8")
    args = ["template", "--preset", str(broken), "--year", "2024", "--level", "district"]
    result = run_dti([*args, "--out", str(tmp_path / "t")], homes["bare"])
    assert_one_line(result, OFFICER, str(not_framework), "version")
    assert not (tmp_path / "t").exists()
