"""Intake commands of ``dti``: templates out, receipts, re-evaluation, appraisal report, history.

Registered on the main group by :func:`register` (one line in ``dti_cli/main.py``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from dti_cli.arguments import level_arg, preset_arg, year_arg, year_span
from dti_cli.common import fail, need_warehouse
from dti_cli.setting_options import method_option
from pipelines.text.labels import LEVEL_NAMES, METHOD_NAMES, ZONE_NAME, vn_number, vn_time, vn_value

console = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 140)


@click.command()
@click.option(
    "--preset", default="daklak", show_default=True, help="Bộ chỉ số (preset) trong data/presets."
)
@click.option("--year", type=int, required=True, help="Năm đánh giá của mẫu.")
@click.option("--level", default=None, help="Chỉ cấp này (department, district, commune).")
@click.option("--unit", "unit_id", default=None, help="Chỉ đơn vị này (mã trong danh mục).")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Thư mục ghi <năm>/<cấp>/DTI_<năm>_<đơn vị>.xlsx.",
)
@click.option(
    "--appraisal/--no-appraisal",
    default=False,
    help="Ghi thêm một tệp thẩm định trống cho mỗi cấp (THAM_DINH_<năm>_<cấp>.xlsx).",
)
def template(
    preset: str,
    year: int,
    level: str | None,
    unit_id: str | None,
    out_dir: Path,
    appraisal: bool,
) -> None:
    """Xuất mẫu tự đánh giá (Excel) cho đơn vị điền: mỗi đơn vị một tệp (hoặc một đơn vị, một cấp).

    Mỗi tệp có một dòng cho mỗi tiêu chí với điểm tối đa và cách chấm, cột nhập số liệu, tài
    liệu kiểm chứng và điểm tự đánh giá, kiểm tra ô nhập, cấu trúc được khóa, và thông tin
    nhận dạng ẩn (bộ tiêu chí, phiên bản, đơn vị, năm) mà bước tiếp nhận kiểm tra."""
    from pipelines.framework.registry import units_in_year
    from pipelines.workbook.write import write_appraisal_workbook, write_unit_workbook

    loaded = preset_arg(preset)
    year_arg(loaded, year)
    if level is not None:
        level_arg(loaded, level)
    levels = [level] if level else list(loaded.levels)
    if unit_id is not None:
        found = loaded.registry.filter(loaded.registry["unit_id"] == unit_id)
        if level is not None:
            found = found.filter(found["level"] == level)
        if found.is_empty():
            fail(
                f"không có đơn vị {unit_id!r} trong danh mục (registry) của {loaded.id}"
                + (f", cấp {level}" if level else "")
                + f" ({loaded.registry_path.name})"
            )
        levels = [found["level"][0]]
    written = 0
    for lvl in levels:
        framework = loaded.framework(lvl)
        if not framework.valid_for(year):
            fail(
                f"bộ tiêu chí (framework) {framework.id} ({framework.version}) áp dụng cho "
                f"{framework.valid_from}–{framework.valid_to}, không cho năm {year}"
            )
        units = units_in_year(loaded.registry, lvl, year)
        if unit_id is not None:
            units = units.filter(units["unit_id"] == unit_id)
            if units.is_empty():
                fail(
                    f"đơn vị {unit_id!r} không tồn tại trong năm {year} "
                    "(danh mục: valid_from/valid_to)"
                )
        folder = out_dir / str(year) / lvl
        for unit in units.iter_rows(named=True):
            write_unit_workbook(
                folder / f"DTI_{year}_{unit['unit_id']}.xlsx", framework, unit, year
            )
            written += 1
        if appraisal and unit_id is None:
            write_appraisal_workbook(
                folder / f"THAM_DINH_{year}_{lvl}.xlsx", framework, lvl, year, []
            )
            written += 1
        console.print(
            f"{LEVEL_NAMES.get(lvl, lvl)}: {units.height} mẫu → {folder} "
            f"({framework.id}, {framework.version})"
        )
    console.print(f"{written} tệp mẫu năm {year} đã ghi vào {out_dir}")


@click.command()
@click.argument("ident")
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Ghi thêm biên nhận vào tệp này.",
)
def receipt(ident: str, out_path: Path | None) -> None:
    """In biên nhận (receipt) của một tệp đã nộp: theo mã (SUBMISSION_ID, hoặc ít nhất 8 ký tự
    đầu không trùng) hoặc chính tệp đó (tìm theo nội dung)."""
    from pipelines.intake.receipts import ReceiptError, receipt_markdown
    from pipelines.intake.submission_lookup import find_submission
    from pipelines.store.warehouse import session

    need_warehouse()
    with session(read_only=True) as con:
        try:
            text = receipt_markdown(con, find_submission(con, ident))
        except ReceiptError as exc:
            fail(str(exc.args[0]))
    click.echo(text, nl=False)
    if out_path is not None:
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out_path.write_text(text, encoding="utf-8")


@click.command()
@click.argument("idents", nargs=-1)
@click.option("--preset", default="daklak", show_default=True)
@click.option("--year", type=int, default=None, help="Chỉ tệp của năm này.")
@click.option("--all", "include_accepted", is_flag=True, help="Mọi tệp, không chỉ tệp bị từ chối.")
def reingest(
    idents: tuple[str, ...], preset: str, year: int | None, include_accepted: bool
) -> None:
    """Đánh giá lại tệp đã lưu theo danh mục và bộ tiêu chí hiện hành (sau khi thêm đơn vị vào
    danh mục, đính chính bộ tiêu chí …).

    Mặc định: mọi tệp có lần đánh giá gần nhất bị từ chối; hoặc các mã SUBMISSION_ID đã nêu.
    Kết quả thay đổi được lưu thành lần đánh giá mới bên cạnh lần cũ (giữ lịch sử), kèm biên
    nhận mới."""
    from pipelines.intake.reingest import reingest as run_reingest
    from pipelines.store.warehouse import session

    loaded = preset_arg(preset)
    if year is not None:
        year_arg(loaded, year)
    need_warehouse()
    with session() as con:
        try:
            outcomes = run_reingest(con, loaded, idents, year, include_accepted)
        except KeyError as exc:
            fail(str(exc.args[0]))
    if not outcomes:
        what = "tệp nào" if include_accepted or idents else "tệp bị từ chối nào"
        console.print(
            f"Không có {what} cần đánh giá lại"
            + (f" (năm {year})" if year is not None else "")
            + " – không có gì thay đổi."
        )
        return
    table = Table(title="Đánh giá lại tệp đã lưu (dti reingest)", title_justify="left")
    for column in ("Tệp", "Trước", "Sau", "Lần đánh giá mới"):
        table.add_column(column)
    for o in outcomes:
        table.add_row(
            o.file_name,
            o.previous_status,
            o.new_status,
            o.new_id if o.changed else "– (kết quả không đổi)",
        )
    console.print(table)
    changed = sum(o.changed for o in outcomes)
    console.print(f"{len(outcomes)} tệp được đánh giá lại, {changed} có kết quả mới.")
    if changed:
        console.print("Chấm lại năm tương ứng: `dti run --year YEAR`.")


@click.command("appraisal-report")
@click.option("--preset", default="daklak", show_default=True)
@click.option("--year", type=int, required=True)
@click.option("--level", default=None, help="Chỉ cấp này.")
@click.option(
    "--out",
    "out_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="TỆP.xlsx hoặc TỆP.csv.",
)
def appraisal_report(preset: str, year: int, level: str | None, out_path: Path) -> None:
    """Xuất bảng chênh lệch giữa tự đánh giá và thẩm định: đơn vị, chỉ số, giá trị và điểm tự
    đánh giá, thẩm định, và lý do, cho mọi giá trị được điều chỉnh."""
    from pipelines.evaluate.appraisal import differences, write_differences
    from pipelines.store.warehouse import session

    loaded = preset_arg(preset)
    year_arg(loaded, year)
    if level is not None:
        level_arg(loaded, level)
    if out_path.suffix.lower() not in (".xlsx", ".csv"):
        fail(f"--out {out_path}: tệp phải có đuôi .xlsx hoặc .csv")
    need_warehouse()
    with session(read_only=True) as con:
        frame = differences(con, loaded, year, level)
        held = [] if frame.height else years_with_observations(con, level)
    where = f"năm {year}" + (f", {LEVEL_NAMES.get(level, level).lower()}" if level else "")
    if frame.is_empty() and year not in held:
        fail(
            f"kho dữ liệu chưa có số liệu {where} – không ghi tệp; "
            f"năm có số liệu: {year_span(held)}"
        )
    if frame.is_empty():
        fail(f"không có điều chỉnh thẩm định nào ({where}) – không ghi tệp")
    title = f"CHÊNH LỆCH TỰ ĐÁNH GIÁ – THẨM ĐỊNH NĂM {year}" + (
        f" – {LEVEL_NAMES.get(level, level)}" if level else ""
    )
    write_differences(frame, out_path, title)
    console.print(f"{frame.height} điều chỉnh thẩm định → {out_path}")


@click.command()
@click.option("--preset", default="daklak", show_default=True)
@click.option("--year", type=int, required=True)
@click.option("--unit", "unit_id", required=True)
@method_option(help="Mặc định: phương pháp chính của bộ chỉ số.")
def history(preset: str, year: int, unit_id: str, method: str | None) -> None:
    """Xem điểm tổng và thứ hạng của một đơn vị thay đổi qua các lần cập nhật trong năm."""
    from pipelines.evaluate.updates import unit_history
    from pipelines.store.warehouse import session

    loaded = preset_arg(preset)
    year_arg(loaded, year)
    if unit_id not in set(loaded.registry["unit_id"]):
        fail(
            f"không có đơn vị {unit_id!r} trong danh mục (registry) của {loaded.id} "
            f"({loaded.registry_path.name})"
        )
    need_warehouse()
    method = method or loaded.primary_method
    with session(read_only=True) as con:
        frame = unit_history(con, year, unit_id, method)
    if frame.is_empty():
        fail(
            f"chưa lần cập nhật nào của năm {year} có đơn vị {unit_id!r} (phương pháp {method})",
            code=1,
        )
    names = dict(zip(loaded.registry["unit_id"], loaded.registry["name"], strict=True))
    table = Table(
        title=f"{unit_id} – {names.get(unit_id, '')} · DTI {year} · {METHOD_NAMES[method]}",
        title_justify="left",
    )
    for column in (
        "Lần cập nhật",
        f"Thời điểm ({ZONE_NAME})",
        "Điểm",
        "Thay đổi",
        "Hạng",
        "Thay đổi hạng",
        "Tệp mới",
    ):
        table.add_column(column, justify="right" if column != "Tệp mới" else "left")
    for row in frame.iter_rows(named=True):
        change = row["points_change"]
        moved = row["rank_change"]
        files = json.loads(row["new_files"] or "[]")
        table.add_row(
            str(row["period"]),
            vn_time(row["recorded_at"], zone=False),
            f"{vn_number(row['points'])}/{vn_value(row['max_points'])}",
            "–" if change is None else ("+" if change > 0 else "") + vn_number(change),
            f"{row['rank']}/{row['group_size']}",
            _moved(moved),
            ", ".join(files[:3]) + (f" (+{len(files) - 3})" if len(files) > 3 else ""),
        )
    console.print(table)


def years_with_observations(con, level: str | None) -> list[int]:
    """The years the warehouse holds observations for (of one level, when given)."""
    if level is None:
        rows = con.execute("SELECT DISTINCT year FROM observations").fetchall()
    else:
        rows = con.execute(
            "SELECT DISTINCT year FROM observations WHERE level = ?", [level]
        ).fetchall()
    return sorted(row[0] for row in rows)


def _moved(change: int | None) -> str:
    if change is None:
        return "–"
    if change > 0:
        return f"↑ {change}"
    if change < 0:
        return f"↓ {-change}"
    return "="


def register(group: click.Group) -> None:
    """Add the intake commands to the ``dti`` group."""
    for command in (template, receipt, reingest, appraisal_report, history):
        group.add_command(command)
