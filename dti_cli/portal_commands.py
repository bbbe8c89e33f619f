"""``dti portal``: serve the web portal; ``dti portal accounts``: issue or reset its accounts."""

from __future__ import annotations

from pathlib import Path

import click

from dti_cli.arguments import preset_arg, year_arg
from dti_cli.common import fail

DEFAULT_PORT = 8100


@click.group(invoke_without_command=True)
@click.option(
    "--preset", default=None, help="Bộ chỉ số (preset) trong data/presets (mặc định $DTI_PRESET)."
)
@click.option("--year", type=int, default=None, help="Năm nhận số liệu (mặc định: năm cuối).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Địa chỉ lắng nghe.")
@click.option("--port", type=click.IntRange(1, 65535), default=DEFAULT_PORT, show_default=True)
@click.option(
    "--secure-cookies/--no-secure-cookies",
    default=False,
    help="Đánh dấu cookie Secure (bắt buộc khi chạy sau HTTPS, xem docs/portal.md).",
)
@click.pass_context
def portal(
    ctx: click.Context,
    preset: str | None,
    year: int | None,
    host: str,
    port: int,
    secure_cookies: bool,
) -> None:
    """Cổng trực tuyến: đơn vị nộp số liệu và xem kết quả, thẩm định, cơ quan thường trực theo
    dõi, công chúng xem kết quả đã công bố (docs/portal.md)."""
    if ctx.invoked_subcommand is not None:
        return
    import uvicorn

    from dti_portal.app import PortalConfig, create_app
    from dti_portal.secret import SecretError, load_secret

    loaded = preset_arg(preset)
    chosen = year_arg(loaded, year) if year is not None else loaded.years[-1]
    try:
        secret = load_secret()
    except (SecretError, OSError) as exc:
        fail(str(exc))
    app = create_app(PortalConfig(loaded, chosen, secret, secure_cookies))
    click.echo(f"Cổng DTI năm {chosen} ({loaded.name}): http://{host}:{port}/")
    uvicorn.run(
        app,
        host=host,
        port=port,
        proxy_headers=True,
        forwarded_allow_ips="127.0.0.1",
        log_level="warning",
    )


@portal.command("accounts")
@click.option(
    "--preset", default=None, help="Bộ chỉ số (preset) trong data/presets (mặc định $DTI_PRESET)."
)
@click.option("--year", type=int, required=True, help="Năm: một tài khoản cho mỗi đơn vị năm đó.")
@click.option(
    "--out",
    "out_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Tệp .xlsx ghi tên đăng nhập và mật khẩu ban đầu (chỉ hiện một lần).",
)
@click.option(
    "--reset",
    "reset_login",
    default=None,
    help="Chỉ cấp lại mật khẩu cho tài khoản này (mã đơn vị, canbo, thamdinh-<cấp>).",
)
def accounts(preset: str | None, year: int, out_path: Path, reset_login: str | None) -> None:
    """Cấp tài khoản cổng: mỗi đơn vị của năm một tài khoản, mỗi cấp một tài khoản thẩm định, một
    tài khoản cơ quan thường trực; mật khẩu ghi vào tệp Excel một lần, chỉ lưu dạng băm."""
    from dti_portal.accounts import UnknownAccountError, issue_accounts, write_accounts_workbook
    from dti_portal.store import connect

    loaded = preset_arg(preset)
    year_arg(loaded, year)
    if out_path.suffix.lower() != ".xlsx":
        fail(f"tệp ra {out_path} phải là .xlsx")
    if out_path.exists():
        fail(f"tệp {out_path} đã có: mật khẩu chỉ ghi vào tệp mới, chọn tên khác")
    if not out_path.parent.is_dir():
        fail(f"không có thư mục {out_path.parent}")
    try:
        with connect() as con:
            issued = issue_accounts(con, loaded, year, reset=reset_login)
            if issued:
                write_accounts_workbook(out_path, issued, year)
    except UnknownAccountError:
        fail(
            f"không có tài khoản {reset_login!r} cho năm {year} của {loaded.id} (mã đơn vị "
            "trong danh mục, canbo hoặc thamdinh-<cấp>)"
        )
    if not issued:
        click.echo(f"Mọi tài khoản năm {year} đã có; không cấp mới (dùng --reset để cấp lại).")
        return
    click.echo(f"{len(issued)} tài khoản năm {year} → {out_path} (mật khẩu chỉ có trong tệp này)")


def register(group: click.Group) -> None:
    """Add ``dti portal`` to ``group``."""
    group.add_command(portal)
