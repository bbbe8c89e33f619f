"""Operations commands of ``dti``: publish a year's results, verify snapshots, show
the warehouse's schema version.

Registered on the main group by :func:`register` (one line in ``dti_cli/main.py``).
"""

from __future__ import annotations

import sys

import click
from rich.console import Console
from rich.table import Table

from dti_cli.arguments import level_arg, preset_arg, year_arg
from dti_cli.common import fail, need_warehouse
from dti_cli.setting_options import SettingChoice
from pipelines import paths
from pipelines.scoring.choices import METHODS
from pipelines.text.labels import LEVEL_NAMES, METHOD_NAMES, ZONE_NAME, vn_time

console = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 140)


@click.command()
@click.argument("year", type=int)
@click.option("--level", required=True, help="Cấp: department, district, commune …")
@click.option(
    "--method",
    "methods",
    type=SettingChoice(METHODS),
    multiple=True,
    help="Chỉ phương pháp này (lặp lại được); mặc định: mọi phương pháp của lần chấm mới nhất.",
)
@click.option(
    "--accept-assumed",
    is_flag=True,
    help="Công bố dù có thành phần giả định (không có trong quyết định); cần --by, --reason.",
)
@click.option(
    "--by", "accepted_by", default=None, help="Người chấp nhận công bố thành phần giả định."
)
@click.option("--reason", default=None, help="Lý do chấp nhận công bố thành phần giả định.")
@click.option(
    "--preset",
    default=None,
    help="Bộ chỉ số của kho dữ liệu (mặc định: $DTI_PRESET hoặc daklak).",
)
def publish(
    year: int,
    level: str,
    methods: tuple[str, ...],
    accept_assumed: bool,
    accepted_by: str | None,
    reason: str | None,
    preset: str | None,
) -> None:
    """Công bố kết quả mới nhất (snapshot) của năm YEAR và cấp: từ đó không sửa được nữa.

    Kết quả đã công bố thì không công bố lại. Sau khi đính chính, chấm lại năm đó
    (`dti run --year YEAR`): một phiên bản kết quả mới được ghi, công bố nó là công bố lại;
    phiên bản đã công bố trước giữ nguyên.

    Kết quả có chỉ số thành phần giả định (không có trong quyết định) bị từ chối, trừ khi cán
    bộ ghi nhận chấp nhận: --accept-assumed --by TÊN --reason LÝ DO (được lưu và hiện trên
    trang công bố)."""
    from pipelines.framework.assumed import refusal_text, snapshot_assumed
    from pipelines.publish.snapshot import (
        PublishedSnapshotError,
        SnapshotIntegrityError,
        latest_snapshot_ids,
        publish_snapshot,
    )
    from pipelines.store.warehouse import session

    loaded = preset_arg(preset)
    year_arg(loaded, year)
    level_arg(loaded, level)
    for method in methods:
        if method not in loaded.methods:
            fail(
                f"phương pháp (method) {method!r} không có trong bộ chỉ số {loaded.id}; "
                f"có: {', '.join(loaded.methods)}"
            )
    accepted = accept_assumed and bool((accepted_by or "").strip() and (reason or "").strip())
    if accept_assumed and not accepted:
        fail("--accept-assumed cần ghi người chấp nhận (--by) và lý do (--reason), không để trống")
    need_warehouse()
    with session() as con:
        ids = latest_snapshot_ids(con, year, level, list(methods) or None)
        if not ids:
            fail(
                f"chưa có kết quả (snapshot) năm {year}, cấp {level}"
                + (f" ({', '.join(methods)})" if methods else "")
                + " – chạy `dti run` trước"
            )
        if not accepted:
            for snapshot_id in ids:
                assumed = snapshot_assumed(con, snapshot_id)
                if assumed.any_assumed:
                    fail(refusal_text(assumed, year))
        done = []
        for snapshot_id in ids:
            try:
                done.append(
                    publish_snapshot(
                        con,
                        snapshot_id,
                        accepted_by if accepted else None,
                        reason if accepted else None,
                    )
                )
            except (PublishedSnapshotError, SnapshotIntegrityError) as exc:
                for publication in done:
                    console.print(
                        f"đã công bố {METHOD_NAMES.get(publication.method, publication.method)}: "
                        f"{publication.snapshot_id}"
                    )
                where = f"kết quả (snapshot) {snapshot_id} năm {year}, {level}"
                if isinstance(exc, PublishedSnapshotError):
                    fail(
                        f"{where} đã được công bố trước đó (already published): không công bố "
                        "lại hay ghi đè được – đính chính thì chấm lại năm "
                        f"(`dti run --year {year}`) để có phiên bản mới rồi công bố phiên bản đó"
                    )
                fail(
                    f"{where}: dữ liệu đã lưu không khớp mã kiểm (content hash) – không công bố; "
                    "xem `dti verify-snapshots`"
                )
    table = Table(
        title=f"Công bố DTI {year} – {LEVEL_NAMES.get(level, level)}", title_justify="left"
    )
    for column in (
        "Phương pháp",
        "Kết quả (snapshot)",
        "Phiên bản",
        "Lần công bố",
        f"Công bố lúc ({ZONE_NAME})",
    ):
        table.add_column(column)
    for p in done:
        table.add_row(
            f"{METHOD_NAMES.get(p.method, p.method)} · {p.method}",
            p.snapshot_id,
            str(p.version),
            str(p.published_version),
            vn_time(p.published_at, seconds=True, zone=False),
        )
    console.print(table)


@click.command("verify-snapshots")
@click.option("--published-only", is_flag=True, help="Only the published snapshots.")
def verify_snapshots_command(published_only: bool) -> None:
    """Recompute every snapshot's content hash from its stored rows; exit 1 on any mismatch."""
    from pipelines.publish.snapshot import verify_snapshots
    from pipelines.store.warehouse import session

    need_warehouse()
    with session(read_only=True) as con:
        bad = verify_snapshots(con, published_only=published_only)
        total = con.execute("SELECT count(*) FROM snapshots").fetchone()[0]
    if bad:
        fail(f"{len(bad)} of {total} snapshot(s) do not match their content hash: {bad}", 1)
    console.print(f"{total} snapshot(s) checked: every content hash matches")


@click.command("schema")
def schema_command() -> None:
    """The warehouse's schema version and the migrations applied."""
    from pipelines.store.warehouse import migrations, session

    need_warehouse()
    with session() as con:
        rows = con.execute(
            "SELECT version, name, applied_at FROM schema_migrations ORDER BY version"
        ).fetchall()
    table = Table(title=f"Schema of {paths.warehouse_path()}", title_justify="left")
    for column in ("version", "migration", "applied at"):
        table.add_column(column)
    for version, name, applied in rows:
        table.add_row(f"{version:03d}", name, f"{applied:%Y-%m-%d %H:%M:%S}")
    console.print(table)
    console.print(f"files in sql/schema: {len(migrations())}")


def register(cli: click.Group) -> None:
    for command in (publish, verify_snapshots_command, schema_command):
        cli.add_command(command)
