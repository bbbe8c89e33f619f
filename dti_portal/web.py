"""What every page of the portal shares: its configuration, the templates, the user behind a
request, the rights of each role (:meth:`Portal.need_user`, :meth:`Portal.unit_for`) and the CSRF
check of every form (:meth:`Portal.checked_form`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import jinja2
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse

from dti_portal import auth
from dti_portal.auth import SESSION_COOKIE, Signer, User
from dti_portal.pipeline import LEVEL_NAMES, METHOD_NAMES, Preset, units_of_year
from dti_portal.receipt_view import receipt_html
from dti_portal.store import connect
from dti_portal.upload_check import MAX_UPLOAD_BYTES

HERE = Path(__file__).parent
STATUS_NAMES = {
    "accepted": "Đã tiếp nhận",
    "partially_accepted": "Tiếp nhận một phần",
    "refused": "Bị từ chối",
    "appraised": "Đã thẩm định",
    "landed": "Đã nộp, chờ xử lý",
    "missing": "Chưa nộp",
}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
SAFE_ID = re.compile(r"[^A-Za-z0-9_.-]")  # what may appear of an id in a file name


@dataclass
class PortalConfig:
    """How this portal runs: the preset, the year open for submissions, the signing secret and
    whether cookies are marked Secure (behind HTTPS)."""

    preset: Preset
    year: int
    secret: str
    secure_cookies: bool = False


def environment() -> jinja2.Environment:
    """The pages' templates, every value autoescaped."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,  # every value is escaped unless a template says otherwise (none does)
        undefined=jinja2.StrictUndefined,
    )
    env.filters["vn"] = vn
    env.filters["receipt_html"] = receipt_html
    env.globals["LEVEL_NAMES"] = LEVEL_NAMES
    env.globals["METHOD_NAMES"] = METHOD_NAMES
    env.globals["STATUS_NAMES"] = STATUS_NAMES
    return env


def vn(value, decimals: int = 2) -> str:
    """A number the Vietnamese way (1.234,50); – for none."""
    if value is None:
        return "–"
    text = f"{float(value):,.{decimals}f}"
    return text.replace(",", " ").replace(".", ",").replace(" ", ".")


class SecurityHeaders(BaseHTTPMiddleware):
    """The headers of :data:`SECURITY_HEADERS` on every response."""

    async def dispatch(self, request, call_next):
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response


class Portal:
    """One running portal: its configuration, templates, signer and the year's registry."""

    def __init__(self, config: PortalConfig) -> None:
        self.config = config
        self.env = environment()
        self.signer = Signer(config.secret)
        self.preset, self.year = config.preset, config.year
        self.registry = {u["unit_id"]: u for u in units_of_year(config.preset, config.year)}

    def address(self, request: Request) -> str:
        """The client's address (the proxy's forwarded one, docs/portal.md)."""
        return request.client.host if request.client else "?"

    def page(self, request: Request, name: str, status: int = 200, **context) -> HTMLResponse:
        """The template ``name`` rendered (every value escaped) with the common context."""
        user = context.pop("user", None)
        body = self.env.get_template(name).render(
            user=user, year=self.year, preset_name=self.preset.name, **context
        )
        return HTMLResponse(body, status_code=status)

    def current_user(self, request: Request) -> User | None:
        """The user of the request's signed session cookie, if any."""
        session_id = self.signer.session_id(request.cookies.get(SESSION_COOKIE))
        if session_id is None:
            return None
        with connect() as con:
            return auth.session_user(con, session_id)

    def need_user(self, request: Request, *roles: str) -> User:
        """The logged-in user, of one of ``roles`` when given (401 to the login, else 403)."""
        user = self.current_user(request)
        if user is None:
            raise HTTPException(401, "Cần đăng nhập")
        if roles and user.role not in roles:
            raise HTTPException(403, "Không có quyền xem trang này")
        return user

    def unit_for(self, user: User, unit_id: str) -> dict:
        """The registry's unit ``unit_id`` when ``user`` may see it (404 unknown, 403 not
        theirs)."""
        unit = self.registry.get(unit_id)
        if unit is None:
            raise HTTPException(404, "Không có đơn vị này")
        if not user.may_see_unit(unit_id, unit["level"]):
            raise HTTPException(403, "Không có quyền với đơn vị này")
        return unit

    async def checked_form(
        self, request: Request, user: User, max_part: int = 1024 * 1024
    ) -> FormData:
        """The POSTed form, refused (403) unless it carries the session's CSRF token; a body far
        beyond the upload limit is refused (413) before it is read."""
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > MAX_UPLOAD_BYTES + 64 * 1024:
            raise HTTPException(413, "Tệp gửi lên quá lớn")
        form = await request.form(max_files=1, max_fields=2000, max_part_size=max_part)
        if not auth.same_token(user.csrf_token, form.get("csrf")):
            raise HTTPException(403, "Phiên làm việc không hợp lệ (mã chống giả mạo)")
        return form

    def deadline(self) -> dict | None:
        """The year's deadline and its source, as the officer entered them (None: not yet)."""
        with connect() as con:
            row = con.execute("SELECT * FROM deadlines WHERE year = ?", (self.year,)).fetchone()
        return dict(row) if row else None

    def released_period(self) -> int:
        """The last update period of the year the officer released to the units (0: none)."""
        with connect() as con:
            row = con.execute(
                "SELECT max(period) FROM released_periods WHERE year = ?", (self.year,)
            ).fetchone()
        return row[0] or 0
