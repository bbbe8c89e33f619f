"""YAML documents of ``data/`` (frameworks, presets), parsed by libyaml when it is installed.

PyYAML's pure-Python parser takes ~40 ms for a province's framework file and the yearly run reads
each of them several times (2 s of the one-year demo in a profile); the C parser gives the
same objects in a tenth of the time. Same safe subset either way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: str | Path) -> Any:
    """The parsed document of a UTF-8 YAML file (``yaml.YAMLError`` when it is not YAML)."""
    return yaml.load(Path(path).read_text(encoding="utf-8"), Loader=SAFE_LOADER)
