"""Where things live: the repository's data and SQL, and the working area (``DTI_HOME``)."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = REPO_ROOT / "data"
SQL_DIR = REPO_ROOT / "sql"
EXPECTATIONS_DIR = REPO_ROOT / "expectations"


def dti_home() -> Path:
    """The working area: warehouse, archive, inbox and generated demo files (default ``./var``)."""
    return Path(os.environ.get("DTI_HOME", REPO_ROOT / "var")).resolve()


def warehouse_path() -> Path:
    return Path(os.environ.get("DTI_WAREHOUSE", dti_home() / "warehouse" / "dti.duckdb")).resolve()


def archive_dir() -> Path:
    return dti_home() / "archive"


def inbox_dir() -> Path:
    return dti_home() / "inbox"
