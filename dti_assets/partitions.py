"""Yearly partitions: one partition per evaluated year (Dagster has no yearly class)."""

from __future__ import annotations

import warnings

import dagster as dg

# the single-run backfill policy is the design (one DuckDB writer, see below); Dagster flags the
# parameter as beta on every asset, which buries the CLI's output under seventeen warnings
warnings.filterwarnings("ignore", message=".*backfill_policy.*", category=dg.BetaWarning)

FIRST_YEAR = "2020"

# Keys are completed years only: year N becomes available on 1 January of N + 1, when its
# evaluation starts.
yearly_partitions = dg.TimeWindowPartitionsDefinition(
    start=FIRST_YEAR, fmt="%Y", cron_schedule="0 0 1 1 *", timezone="Asia/Ho_Chi_Minh"
)

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
