"""TEST ONLY: the production event log storage (Dagster's ``PostgresEventLogStorage``) with one
change: a step blocked by a pool asks again for its slot every ``POLL_SECONDS``.

Dagster backs a blocked claim off from 1 s to 15 s. The pool hands a freed slot to the oldest
waiting step, so the slot then sits unused until that step's run asks again: with six runs
queueing for one slot, most of a backfill's time goes on those pauses. Polling promptly keeps
every claim, slot and pool rule of the production storage (the same SQL on the same Postgres)
and makes the runs contend for the warehouse more often, not less. Dagster's own tests shorten
the interval the same way (``dagster._utils.test.ConcurrencyEnabledSqliteTestEventLogStorage``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dagster._serdes import ConfigurableClassData
from dagster._utils.concurrency import ConcurrencyClaimStatus
from dagster_postgres.event_log import PostgresEventLogStorage
from dagster_postgres.utils import get_token_provider_from_config, pg_url_from_config

POLL_SECONDS = 0.25


class PromptClaimsPostgresEventLogStorage(PostgresEventLogStorage):
    """``PostgresEventLogStorage`` whose blocked claims are retried every ``POLL_SECONDS``."""

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any]
    ) -> PromptClaimsPostgresEventLogStorage:
        return cls(
            inst_data=inst_data,
            postgres_url=pg_url_from_config(config_value),
            should_autocreate_tables=config_value.get("should_autocreate_tables", True),
            token_provider=get_token_provider_from_config(config_value),
        )

    def claim_concurrency_slot(
        self, concurrency_key: str, run_id: str, step_key: str, priority: int | None = None
    ) -> ConcurrencyClaimStatus:
        status = super().claim_concurrency_slot(concurrency_key, run_id, step_key, priority)
        return status if status.is_claimed else status.with_sleep_interval(POLL_SECONDS)
