"""The snapshot's code version changes with every module on the scoring path (found by import
closure) and with the numeric libraries' versions, and with nothing else
(pipelines/publish/version.py; what it covers is listed in tests/test_ties_and_exclude.py)."""

from __future__ import annotations

import shutil

import pytest


@pytest.fixture
def fresh_code_version():
    """``code_version`` recomputed in the test (it is cached per process), and again after."""
    from pipelines.publish import version

    version.code_version.cache_clear()
    yield version
    version.code_version.cache_clear()


def test_an_appraisal_change_changes_the_code_version_a_report_change_does_not(
    tmp_path, monkeypatch, fresh_code_version
):
    """On a copy of ``pipelines/``: one line added to the appraisal override gives another code
    version; the same line added to the report's site (outside the scoring path) does not."""
    version = fresh_code_version
    copy = tmp_path / "pipelines"
    shutil.copytree(version.PACKAGE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(version, "PACKAGE_DIR", copy)
    base = version.code_version()

    def add_line(relative: str) -> str:
        path = copy / relative
        original = path.read_text(encoding="utf-8")
        path.write_text(original + "\nEXTRA_CONSTANT = 1\n", encoding="utf-8")
        version.code_version.cache_clear()
        changed = version.code_version()
        path.write_text(original, encoding="utf-8")
        version.code_version.cache_clear()
        return changed

    assert add_line("report/site.py") == base
    assert add_line("evaluate/appraisal.py") != base
    assert add_line("framework/lineage.py") != base
    assert version.code_version() == base


def test_a_numpy_upgrade_changes_the_code_version(monkeypatch, fresh_code_version):
    """The installed version of numpy is read through importlib.metadata: another version
    string there gives another code version; another version of an unrelated package does not."""
    version = fresh_code_version
    installed = version.version
    base = version.code_version()

    def upgraded(package: str) -> str:
        return (
            installed(package) + ".post1" if package in ("numpy", "jinja2") else installed(package)
        )

    monkeypatch.setattr(version, "version", upgraded)
    version.code_version.cache_clear()
    assert version.code_inputs()["library:numpy"] == installed("numpy") + ".post1"
    assert version.code_version() != base
    assert version.code_version().split("+")[0] == base.split("+")[0]  # same package version

    def jinja_only(package: str) -> str:
        return installed(package) + ".post1" if package == "jinja2" else installed(package)

    monkeypatch.setattr(version, "version", jinja_only)
    version.code_version.cache_clear()
    assert version.code_version() == base
