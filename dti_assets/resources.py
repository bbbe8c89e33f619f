"""Resources: the DuckDB warehouse and the settings of the yearly run."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from pipelines import paths
from pipelines.analysis.inputs import default_preset
from pipelines.framework.preset import Preset, load_preset
from pipelines.store.lock import writer_lock
from pipelines.store.province import claim_preset
from pipelines.store.warehouse import migrate


class Warehouse(DuckDBResource):
    """The DuckDB warehouse file; every connection is migrated to the schema in ``sql/`` and
    holds the writer lock while open (:mod:`pipelines.store.lock`: the pool alone does not
    keep two runs' steps apart)."""

    @contextmanager
    def connect(self, preset: Preset | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
        """A migrated connection; with ``preset``, one that refuses a warehouse holding another
        province's data (and claims an empty one: :mod:`pipelines.store.province`)."""
        Path(self.database).parent.mkdir(parents=True, exist_ok=True)
        with writer_lock(self.database), self.get_connection() as con:
            migrate(con)
            if preset is not None:
                claim_preset(con, preset, self.database)
            yield con


class DtiSettings(dg.ConfigurableResource):
    """Which province preset is run, where files arrive and where they are archived."""

    preset: str = default_preset()
    inbox: str = ""
    archive: str = ""

    def load_preset(self) -> Preset:
        return load_preset(self.preset)

    def inbox_dir(self) -> Path:
        return Path(self.inbox) if self.inbox else paths.inbox_dir()

    def archive_dir(self) -> Path:
        return Path(self.archive) if self.archive else paths.archive_dir()
