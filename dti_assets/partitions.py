"""Yearly partitions: one partition per evaluated year (Dagster has no yearly class)."""

from __future__ import annotations

import warnings

import dagster as dg

from pipelines.analysis.inputs import default_preset
from pipelines.framework.preset import load_preset

# the single-run backfill policy is the design (one DuckDB writer, see below); Dagster flags the
# parameter as beta on every asset, which buries the CLI's output under seventeen warnings
warnings.filterwarnings("ignore", message=".*backfill_policy.*", category=dg.BetaWarning)
# checks are evaluated per year partition (the UI shows each year's status); Dagster flags
# partitioned checks as a preview on every check
warnings.filterwarnings("ignore", message=".*partitions_def on an AssetCheckSpec.*")

# The code location serves one province: the preset of its warehouse ($DTI_PRESET, default
# daklak). Its years start the partitions, so no year before the preset's shows as missing.
LOCATION_PRESET = default_preset()


def yearly_partitions_from(first_year: int, last_year: int) -> dg.TimeWindowPartitionsDefinition:
    """One partition per completed year from ``first_year`` to ``last_year`` (the years the
    preset's decision governs): year N becomes available on 1 January of N + 1, when its
    evaluation starts."""
    return dg.TimeWindowPartitionsDefinition(
        start=str(first_year),
        end=str(last_year + 1),
        fmt="%Y",
        cron_schedule="0 0 1 1 *",
        timezone="Asia/Ho_Chi_Minh",
    )


_LOCATION = load_preset(LOCATION_PRESET)
yearly_partitions = yearly_partitions_from(_LOCATION.first_year, _LOCATION.last_year)

# A multi-year backfill runs every year in one process: one DuckDB writer, no lock contention.
single_run = dg.BackfillPolicy.single_run()

# Every asset that writes the warehouse shares this pool; dagster.yaml limits it to one slot so
# concurrent runs queue instead of failing on DuckDB's single-writer lock.
WAREHOUSE_POOL = "dti_warehouse"


def years_of(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext) -> list[int]:
    """The years a run covers (one, or a range under the single-run backfill policy)."""
    return [int(key) for key in context.partition_keys]


def yearly_stage(group: str, warehouse: bool = True) -> dict:
    """The decorator arguments every yearly asset of a stage shares: its group, the yearly
    partitions, one run per backfill and (when it opens the warehouse) the writers' pool."""
    stage = {
        "group_name": group,
        "partitions_def": yearly_partitions,
        "backfill_policy": single_run,
    }
    return {**stage, "pool": WAREHOUSE_POOL} if warehouse else stage


def yearly_check_spec(name: str, asset: str, **spec) -> dg.AssetCheckSpec:
    """A check evaluated per year partition (``dti_assets.assets.common.year_check``)."""
    return dg.AssetCheckSpec(name, asset=asset, partitions_def=yearly_partitions, **spec)
