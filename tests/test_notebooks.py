"""Notebooks run top to bottom (nbclient) against a warehouse built through Dagster: the tiny
preset's demo data for 2023 and 2024 (so trends have a year-over-year change), the annual
pipeline and the analysis assets (so ``rank_uncertainty`` and the other analysis tables exist) —
the session's build of tests/analysis_support.py."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from analysis_support import TINY, analysis_warehouse
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="module")
def tiny_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return analysis_warehouse(tmp_path_factory)


def test_notebooks_are_committed_without_outputs():
    assert NOTEBOOKS, "no notebooks found"
    for path in NOTEBOOKS:
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, path.name


def test_the_analysis_notebooks_are_there():
    names = {path.stem for path in NOTEBOOKS}
    assert {"01_explore_year", "02_compare_methods", "03_uncertainty", "04_trends"} <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_top_to_bottom(path: Path, tiny_warehouse: Path, monkeypatch):
    monkeypatch.setenv("DTI_WAREHOUSE", str(tiny_warehouse))
    monkeypatch.setenv("DTI_PRESET", TINY)
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent.parent)}},
    ).execute()
    errors = [o for c in notebook.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors == []
