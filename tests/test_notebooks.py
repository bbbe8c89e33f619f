"""Notebooks run top to bottom (nbclient) against a warehouse built through Dagster."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import nbformat
import pytest
from nbclient import NotebookClient

from dti_assets.definitions import all_assets
from dti_assets.resources import DtiSettings, Warehouse

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))
TINY = str(Path(__file__).parent / "fixtures" / "presets" / "tiny.yaml")


@pytest.fixture(scope="module")
def tiny_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("nb_home")
    resources = {
        "warehouse": Warehouse(database=str(home / "w.duckdb")),
        "settings": DtiSettings(preset=TINY, inbox=str(home / "inbox"),
                                archive=str(home / "archive")),
    }
    for group in (["demo_submissions"], None):
        assets = [a for a in all_assets if (group is None) != (a.key.to_user_string() in
                                                                  ["demo_submissions"])]
        assert dg.materialize(assets, partition_key="2024", resources=resources,
                              instance=dg.DagsterInstance.ephemeral()).success
    return home / "w.duckdb"


def test_notebooks_are_committed_without_outputs():
    assert NOTEBOOKS, "no notebooks found"
    for path in NOTEBOOKS:
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_top_to_bottom(path: Path, tiny_warehouse: Path, monkeypatch):
    monkeypatch.setenv("DTI_WAREHOUSE", str(tiny_warehouse))
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent.parent)}}).execute()
    errors = [o for c in notebook.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors == []
