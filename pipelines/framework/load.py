"""Load a framework YAML file into a validated :class:`Framework`.

Every problem is reported with the file name and the path inside the file
(``tree[0].children[2] (P3)``) so whoever edits the YAML can find it (the checks are in
:mod:`pipelines.framework.from_mapping`). Count discrepancies between what a decision *declares*
and what it actually *lists* are findings, not errors: the loader reports both numbers instead of
trusting either.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from pipelines.framework.from_mapping import FrameworkError, framework_from_mapping
from pipelines.framework.model import Framework
from pipelines.framework.yamlfile import read_yaml


def load_framework(path: str | Path) -> Framework:
    """Read and validate a framework YAML file (see docs/framework-format.md)."""
    document = framework_document(path)
    return framework_from_mapping(document["framework"], origin=str(path))


def framework_document(path: str | Path) -> dict[str, Any]:
    """The parsed YAML of a framework file, with its top-level ``framework`` key (what
    :func:`load_framework` builds from; readers of keys the model does not keep use it)."""
    path = Path(path)
    try:
        document = read_yaml(path)
    except yaml.YAMLError as exc:
        raise FrameworkError(str(path), [f"not valid YAML: {exc}"]) from exc
    if not isinstance(document, dict) or "framework" not in document:
        raise FrameworkError(str(path), ["top-level key 'framework' is missing"])
    return document
