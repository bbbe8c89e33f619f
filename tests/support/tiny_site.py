"""A small warehouse and its report, built once per test session through Dagster in memory:
the tiny fixture preset (4 departments, 5 communes in 2 districts), years 2023 and 2024, every
asset of the annual job including ``year_report`` and ``year_annex``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

TINY = str(Path(__file__).parents[1] / "fixtures" / "presets" / "tiny.yaml")
YEARS = ("2023", "2024")
_BUILT: dict[str, TinySite] = {}


@dataclass(frozen=True)
class TinySite:
    home: Path
    warehouse: Path
    out: Path
    preset: str = TINY


def build_tiny_site(factory: pytest.TempPathFactory) -> TinySite:
    """The session's tiny site (built on first use)."""
    if "site" not in _BUILT:
        _BUILT["site"] = build_site(factory.mktemp("tiny_report"), TINY, YEARS)
    return _BUILT["site"]


def build_site(home: Path, preset: str, years: tuple[str, ...]) -> TinySite:
    """``preset``'s demo workbooks and the whole annual job (report and annex included) for
    each of ``years``, through Dagster in memory, into ``home``."""
    import dagster as dg

    from dti_assets.definitions import all_assets
    from dti_assets.resources import DtiSettings, Warehouse

    site = TinySite(home=home, warehouse=home / "w.duckdb", out=home / "report", preset=preset)
    resources = {
        "warehouse": Warehouse(database=str(site.warehouse)),
        "settings": DtiSettings(
            preset=preset, inbox=str(home / "inbox"), archive=str(home / "archive")
        ),
    }
    config = {"config": {"out": str(site.out)}}
    quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    run_config = {"ops": {"year_report": config, "year_annex": config}, **quiet}
    demo = [a for a in all_assets if a.key.to_user_string() == "demo_submissions"]
    annual = [a for a in all_assets if a.key.to_user_string() != "demo_submissions"]
    # Session fixtures run before the per-test DTI_HOME isolation: point it here meanwhile.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DTI_HOME", str(home))
        patch.delenv("DTI_WAREHOUSE", raising=False)
        for year in years:
            for assets, extra in ((demo, quiet), (annual, run_config)):
                result = dg.materialize(
                    assets,
                    partition_key=year,
                    resources=resources,
                    instance=dg.DagsterInstance.ephemeral(),
                    run_config=extra,
                    raise_on_error=True,
                )
                assert result.success, year
    return site
