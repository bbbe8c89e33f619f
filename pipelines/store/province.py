"""One warehouse per province: the warehouse records the preset it was filled with, and any
command or run with another preset refuses with one line.

The record is the one row of ``warehouse_preset`` (``sql/schema/010_warehouse_preset.sql``). The
first run that writes reference data claims an empty warehouse; reading commands only compare.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.framework.preset import Preset
from pipelines.store.warehouse import transaction


class WrongPresetError(ValueError):
    """The warehouse holds another province's data (one line, Vietnamese: shown to officers)."""


def warehouse_preset(con: duckdb.DuckDBPyConnection) -> str | None:
    """The id of the preset the warehouse holds, or None while it holds nothing."""
    known = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'warehouse_preset'"
    ).fetchone()[0]
    if not known:
        return None
    row = con.execute("SELECT preset_id FROM warehouse_preset ORDER BY recorded_at").fetchone()
    return row[0] if row else None


def refusal(database: str | Path, recorded: str, wanted: str) -> str:
    """The one line a command or run prints when the presets differ."""
    return (
        f"kho dữ liệu {database} là của bộ cấu hình (preset) '{recorded}', không chạy với "
        f"'{wanted}': mỗi tỉnh một kho — đặt DTI_HOME hoặc DTI_WAREHOUSE khác cho '{wanted}'"
    )


def check_preset(con: duckdb.DuckDBPyConnection, preset: Preset, database: str | Path) -> None:
    """Refuse (:class:`WrongPresetError`) when the warehouse holds another preset's data."""
    recorded = warehouse_preset(con)
    if recorded is not None and recorded != preset.id:
        raise WrongPresetError(refusal(database, recorded, preset.id))


def claim_preset(con: duckdb.DuckDBPyConnection, preset: Preset, database: str | Path) -> None:
    """Record ``preset`` as the warehouse's when it holds none yet; refuse another one."""
    check_preset(con, preset, database)
    if warehouse_preset(con) is None:
        with transaction(con, label="warehouse_preset"):
            con.execute(
                "INSERT INTO warehouse_preset (preset_id, preset_name, recorded_by) "
                "VALUES (?, ?, 'run')",
                [preset.id, preset.name],
            )


def ensure_warehouse_preset(preset: Preset, database: str | Path | None = None) -> None:
    """For commands, before they start: refuse when the warehouse file holds another preset's
    data (read-only look; a missing warehouse holds nothing)."""
    from pipelines.paths import warehouse_path

    path = Path(database) if database is not None else warehouse_path()
    if not path.exists():
        return
    from pipelines.store.warehouse import session

    with session(path, read_only=True) as con:
        check_preset(con, preset, path)


def load_warehouse_preset(name_or_path: str | Path, database: str | Path | None = None) -> Preset:
    """:func:`pipelines.framework.preset.load_preset`, refused (:class:`WrongPresetError`) when the
    warehouse holds another preset's data: what a command calls before it does anything."""
    from pipelines.framework.preset import load_preset

    preset = load_preset(name_or_path)
    ensure_warehouse_preset(preset, database)
    return preset
