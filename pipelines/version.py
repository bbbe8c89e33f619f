"""The code version recorded in snapshots: package version plus a hash of the scoring code."""

from __future__ import annotations

import hashlib
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

_SCORING_SOURCES = ("scoring", "framework")


@cache
def code_version() -> str:
    """``<package version>+<hash of pipelines/scoring and pipelines/framework sources>``.

    Only the code that turns inputs into numbers is hashed, so a change to a report or the CLI
    does not make an otherwise identical snapshot look new.
    """
    try:
        package = version("dti")
    except PackageNotFoundError:
        package = "0+unknown"
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for folder in _SCORING_SOURCES:
        for path in sorted((root / folder).glob("*.py")):
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return f"{package}+{digest.hexdigest()[:12]}"
