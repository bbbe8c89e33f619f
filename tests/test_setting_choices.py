"""Every choice of a scoring setting is defined once (pipelines/scoring/choices.py) and every
Vietnamese name and number format once (pipelines/text/labels.py): the CLI, the preset loader and
the labels agree with that one definition, and a value outside it is refused by name.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import subprocess_env

from pipelines.framework.preset import PresetError, load_preset
from pipelines.paths import DATA_DIR
from pipelines.scoring import choices
from pipelines.text import labels

ROOT = Path(__file__).resolve().parents[1]
DTI = str(Path(sys.executable).parent / "dti")  # the installed console script

# ---------------------------------------------------------------- one name per value


@pytest.mark.parametrize(
    ("table", "values"),
    [
        (labels.METHOD_NAMES, choices.METHODS),
        (labels.METHOD_SHORT_NAMES, choices.METHODS),
        (labels.MISSING_RULE_NAMES, choices.MISSING_RULES),
        (labels.BOUNDS_NAMES, choices.BOUNDS),
        (labels.ZSCORE_MODE_NAMES, choices.ZSCORE_MODES),
        (labels.READING_NAMES, choices.READINGS),
        (labels.DVCTT_SCOPE_NAMES, choices.DVCTT_SCOPES),
        (labels.COMPARISON_GROUP_NAMES, choices.COMPARISON_GROUPS),
    ],
)
def test_every_choice_has_one_vietnamese_name(table, values):
    assert sorted(table) == sorted(values)
    assert all(name.strip() and name == name.strip() for name in table.values())


def test_the_method_page_names_every_setting_value():
    """A snapshot's settings as the method page shows them: every value of every setting has a
    meaning, the same words as the tables (the missing rule's rule_applied heading included)."""
    for setting, values, table in [
        ("method", choices.METHODS, labels.METHOD_NAMES),
        ("missing", choices.MISSING_RULES, labels.MISSING_RULE_NAMES),
        ("minmax_bounds", choices.BOUNDS, labels.BOUNDS_NAMES),
        ("zscore_mode", choices.ZSCORE_MODES, labels.ZSCORE_MODE_NAMES),
        ("classification_reading", choices.READINGS, labels.READING_NAMES),
        ("comparison_group", choices.COMPARISON_GROUPS, labels.COMPARISON_GROUP_NAMES),
    ]:
        for value in values:
            assert labels.PARAM_VALUES[(setting, value)] == table[value]
    assert labels.RULE_NAMES["missing.zero"] == "Không có số liệu báo cáo → 0 điểm"
    assert labels.LEVEL_NAMES["department"] == "Cấp sở (sở, ban, ngành)"


LABEL_TABLES = (
    "LEVEL_SHORT_NAMES",
    "LEVEL_UNIT_NAMES",
    "LEVEL_NAMES",
    "METHOD_NAMES",
    "METHOD_SHORT_NAMES",
    "MISSING_RULE_NAMES",
    "BOUNDS_NAMES",
    "ZSCORE_MODE_NAMES",
    "READING_NAMES",
    "DVCTT_SCOPE_NAMES",
    "COMPARISON_GROUP_NAMES",
    "RULE_NAMES",
)


def _string_constants(path: Path) -> list[str]:
    """Every string constant of a module (f-strings' literal parts included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and type(n.value) is str]


def test_each_vietnamese_name_is_written_once_in_the_code():
    """No module but labels.py spells a name of a level, method, setting value or rule: a
    second copy of any of them (a table in a report module, a literal in a command) fails."""
    names = {labels.UNCLASSIFIED}
    for table in LABEL_TABLES:
        names |= set(getattr(labels, table).values())
    labels_path = ROOT / "pipelines" / "text" / "labels.py"
    seen: dict[str, list[str]] = {name: [] for name in names}
    for package in ("pipelines", "dti_cli", "dti_assets"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for text in _string_constants(path):
                if text in seen:
                    seen[text].append(str(path.relative_to(ROOT)))
    for name, where in seen.items():
        elsewhere = [p for p in where if p != str(labels_path.relative_to(ROOT))]
        assert elsewhere == [], (name, elsewhere)
        assert len(where) <= 1, (name, where)  # derived names (RULE_NAMES' missing.*) appear 0×
    # the check can fail: a copy of a name in another module is found
    assert "Cấp xã" in seen and seen["Cấp xã"] == ["pipelines/text/labels.py"]


# ---------------------------------------------------------------- Vietnamese numbers


@pytest.mark.parametrize(
    ("formatted", "expected"),
    [
        (labels.vn_number(1234.5), "1.234,50"),
        (labels.vn_number(-0.125, 1), "-0,1"),
        (labels.vn_number(None), "–"),
        (labels.vn_number(float("nan")), "–"),
        (labels.vn_number(1000, 0), "1.000"),
        (labels.vn_count(20971520), "20.971.520"),
        (labels.vn_percent(0.1234), "12,3%"),
        (labels.vn_percent(1), "100,0%"),
        (labels.vn_percent(float("nan")), "–"),
        (labels.vn_signed(1.5), "+1,50"),
        (labels.vn_signed(-0.25), "-0,25"),
        (labels.vn_signed(0.0), "0,00"),
        (labels.vn_value(85.5), "85,5"),
        (labels.vn_value(1.25), "1,25"),
        (labels.vn_value(1000), "1000"),
        (labels.vn_value(0.1 + 0.2), "0,3"),  # float noise dropped
        (labels.vn_value(None), "–"),
        (labels.vn_seconds(3.14), "3,1 s"),
        (labels.vn_seconds(1234.5), "1.234,5 s"),
    ],
)
def test_vietnamese_numbers(formatted, expected):
    assert formatted == expected


# ---------------------------------------------------------------- the preset loader


def _preset_with(tmp_path: Path, change) -> Path:
    """Đắk Lắk's preset, its files given by absolute path, with ``change`` applied to it."""
    spec = yaml.safe_load((DATA_DIR / "presets" / "daklak.yaml").read_text(encoding="utf-8"))
    preset = spec["preset"]
    preset["units"] = str(DATA_DIR / preset["units"])
    for level in preset["levels"].values():
        level["framework"] = str(DATA_DIR / level["framework"])
    if preset.get("lineage"):
        preset["lineage"] = str(DATA_DIR / preset["lineage"])
    change(preset)
    path = tmp_path / "changed.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    return path


def _set(*keys_value):
    *keys, value = keys_value

    def change(preset: dict) -> None:
        place = preset
        for key in keys[:-1]:
            place = place.setdefault(key, {})
        place[keys[-1]] = value

    return change


@pytest.mark.parametrize(
    ("change", "key", "bad", "allowed"),
    [
        (_set("missing", "nothing"), "missing", "'nothing'", choices.MISSING_RULES),
        (_set("methods", "computed", ["points", "median"]), "methods.computed", "'median'",
         choices.METHODS),
        (_set("methods", "primary", "median"), "methods.primary", "'median'", choices.METHODS),
        (_set("methods", "minmax_bounds", "far"), "methods.minmax_bounds", "'far'",
         choices.BOUNDS),
        (_set("methods", "zscore_mode", "t"), "methods.zscore_mode", "'t'",
         choices.ZSCORE_MODES),
        (_set("classification", "reading", "pillars"), "classification.reading", "'pillars'",
         choices.READINGS),
        (_set("levels", "commune", "comparison_group", "district"),
         "levels.commune.comparison_group", "'district'", choices.COMPARISON_GROUPS),
    ],
)  # fmt: skip
def test_the_preset_loader_refuses_an_unknown_choice_naming_file_and_key(
    tmp_path, change, key, bad, allowed
):
    path = _preset_with(tmp_path, change)
    with pytest.raises(PresetError) as refused:
        load_preset(path)
    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: {key} ")
    assert bad in message and ", ".join(allowed) in message


def test_the_preset_loader_accepts_every_choice(tmp_path):
    """The same file with valid values loads (the refusals above are about the value alone)."""

    def change(preset: dict) -> None:
        preset["missing"] = "exclude"
        preset["methods"] = {"computed": ["zscore", "points"], "primary": "points",
                             "zscore_mode": "rescaled", "minmax_bounds": "pooled"}  # fmt: skip
        preset["levels"]["commune"]["comparison_group"] = "parent"

    loaded = load_preset(_preset_with(tmp_path, change))
    assert (loaded.missing, loaded.methods, loaded.primary_method) == (
        "exclude",
        ("zscore", "points"),
        "points",
    )
    assert loaded.levels["commune"].comparison_group == "parent"


def test_a_primary_method_that_is_not_computed_is_refused(tmp_path):
    path = _preset_with(tmp_path, _set("methods", {"computed": ["minmax"], "primary": "points"}))
    with pytest.raises(PresetError, match=r"methods\.primary 'points' is not among"):
        load_preset(path)


# ---------------------------------------------------------------- the command line


@pytest.mark.parametrize(
    ("option", "bad", "allowed"),
    [
        ("--method", "median", choices.METHODS),
        ("--missing", "nothing", choices.MISSING_RULES),
        ("--bounds", "far", choices.BOUNDS),
        ("--zscore", "t", choices.ZSCORE_MODES),
    ],
)
def test_dti_score_refuses_an_unknown_setting_on_one_line(tmp_path, option, bad, allowed):
    """Refused before any file is read (the files named do not exist)."""
    args = [DTI, "score", option, bad, "--framework", "/nowhere/f.yaml", "--data", "/nowhere/d"]
    result = subprocess.run(
        [*args, "--out", str(tmp_path / "s.csv")],
        env=subprocess_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert lines == [
        f"error: invalid value for '{option}': '{bad}' is not one of {', '.join(allowed)} "
        "(see `dti score --help`)"
    ]
    assert not result.stdout.strip()


def test_an_officer_command_refuses_an_unknown_method_in_vietnamese(tmp_path):
    result = subprocess.run(
        [DTI, "history", "--year", "2024", "--unit", "S-KHDT", "--method", "median"],
        env=subprocess_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "lỗi: giá trị không hợp lệ cho '--method': 'median' không phải một trong: "
        "points, minmax, zscore (xem `dti history --help`)"
    )


def test_the_dagster_configs_refuse_an_unknown_missing_rule_or_method():
    """Refused when the run's config is read, naming the value and the choices."""
    from pydantic import ValidationError

    from dti_assets.assets.analysis import ComparisonConfig, TrendsConfig, UncertaintyConfig

    assert ComparisonConfig().missing_rules == list(choices.MISSING_RULES)
    assert TrendsConfig(method="zscore").method == "zscore"
    for make, text in [
        (lambda: ComparisonConfig(missing_rules=["zero", "median"]), "missing-data rule 'median'"),
        (lambda: UncertaintyConfig(missing_rules=["nothing"]), "missing-data rule 'nothing'"),
        (lambda: TrendsConfig(method="median"), "method 'median'"),
    ]:
        with pytest.raises(ValidationError) as refused:
            make()
        assert text in str(refused.value) and "choose one of" in str(refused.value)
