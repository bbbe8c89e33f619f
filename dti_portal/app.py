"""The portal's ASGI application (Starlette): routes, the rights of each role, CSRF on every form.

Every request finds its user from the signed session cookie; every page under ``/unit/<id>``
checks that the user may see that unit (a unit only itself, an appraiser its level, the officer
all); every POST carries the session's CSRF token (the login form a signed one of its own); every
write is an audit line.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

import jinja2
import xlsxwriter
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from dti_portal import auth, results
from dti_portal.auth import LOGIN_COOKIE, SESSION_COOKIE, Signer, User
from dti_portal.online_entry import (
    CellEntry,
    all_entries,
    filled_workbook,
    load_drafts,
    read_entry,
    save_drafts,
)
from dti_portal.pipeline import (
    LEVEL_NAMES,
    METHOD_NAMES,
    Preset,
    dry_run,
    land_in_inbox,
    pillars,
    received_now,
    template_bytes,
    unit_label,
    units_of_year,
    write_text_cell,
)
from dti_portal.receipt_view import receipt_html
from dti_portal.store import audit, connect
from dti_portal.upload_check import MAX_UPLOAD_BYTES, UploadRefused, check_upload

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
_SAFE_ID = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass
class PortalConfig:
    """How this portal runs: the preset, the year open for submissions, the signing secret and
    whether cookies are marked Secure (behind HTTPS)."""

    preset: Preset
    year: int
    secret: str
    secure_cookies: bool = False


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,  # every value is escaped unless a template says otherwise (none does)
        undefined=jinja2.StrictUndefined,
    )
    env.filters["vn"] = _vn
    env.globals["LEVEL_NAMES"] = LEVEL_NAMES
    env.globals["METHOD_NAMES"] = METHOD_NAMES
    env.globals["STATUS_NAMES"] = STATUS_NAMES
    env.filters["receipt_html"] = receipt_html
    return env


def _vn(value, decimals: int = 2) -> str:
    if value is None:
        return "–"
    text = f"{float(value):,.{decimals}f}"
    return text.replace(",", " ").replace(".", ",").replace(" ", ".")


class _SecurityHeaders(BaseHTTPMiddleware):
    async def dispatch(self, request, call_next):
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response


def create_app(config: PortalConfig) -> Starlette:
    """The portal for ``config`` (its store and inbox under ``$DTI_HOME``)."""
    env = _environment()
    signer = Signer(config.secret)
    preset, year = config.preset, config.year
    registry = {u["unit_id"]: u for u in units_of_year(preset, year)}

    # --- helpers ----------------------------------------------------------------------------

    def address(request: Request) -> str:
        return request.client.host if request.client else "?"

    def page(request: Request, name: str, status: int = 200, **context) -> HTMLResponse:
        user = context.pop("user", None)
        body = env.get_template(name).render(
            user=user, year=year, preset_name=preset.name, **context
        )
        return HTMLResponse(body, status_code=status)

    def current_user(request: Request) -> User | None:
        session_id = signer.session_id(request.cookies.get(SESSION_COOKIE))
        if session_id is None:
            return None
        with connect() as con:
            return auth.session_user(con, session_id)

    def need_user(request: Request, *roles: str) -> User:
        user = current_user(request)
        if user is None:
            raise HTTPException(401, "Cần đăng nhập")
        if roles and user.role not in roles:
            raise HTTPException(403, "Không có quyền xem trang này")
        return user

    def unit_for(user: User, unit_id: str) -> dict:
        unit = registry.get(unit_id)
        if unit is None:
            raise HTTPException(404, "Không có đơn vị này")
        if not user.may_see_unit(unit_id, unit["level"]):
            raise HTTPException(403, "Không có quyền với đơn vị này")
        return unit

    async def checked_form(request: Request, user: User, max_part: int = 1024 * 1024) -> FormData:
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > MAX_UPLOAD_BYTES + 64 * 1024:
            raise HTTPException(413, "Tệp gửi lên quá lớn")
        form = await request.form(max_files=1, max_fields=2000, max_part_size=max_part)
        if not auth.same_token(user.csrf_token, form.get("csrf")):
            raise HTTPException(403, "Phiên làm việc không hợp lệ (mã chống giả mạo)")
        return form

    def deadline() -> dict | None:
        with connect() as con:
            row = con.execute("SELECT * FROM deadlines WHERE year = ?", (year,)).fetchone()
        return dict(row) if row else None

    # --- public -----------------------------------------------------------------------------

    async def home(request: Request) -> Response:
        user = current_user(request)
        if user is not None:
            target = {"unit": f"/unit/{user.unit_id}", "appraiser": "/appraisal"}.get(
                user.role, "/officer"
            )
            return RedirectResponse(target, status_code=303)
        return page(request, "home.html")

    async def public(request: Request) -> Response:
        snapshots = await run_in_threadpool(results.published_snapshots)
        return page(request, "public.html", user=current_user(request), snapshots=snapshots)

    async def public_snapshot(request: Request) -> Response:
        snapshot_id = request.path_params["snapshot_id"]
        known = {s["snapshot_id"]: s for s in await run_in_threadpool(results.published_snapshots)}
        if snapshot_id not in known:
            raise HTTPException(404, "Không có kết quả đã công bố này")
        rows = await run_in_threadpool(results.published_totals, snapshot_id)
        return page(
            request,
            "public_snapshot.html",
            user=current_user(request),
            snapshot=known[snapshot_id],
            rows=rows,
        )

    async def public_lookup(request: Request) -> Response:
        query = request.query_params.get("q", "")[:100]
        rows = await run_in_threadpool(results.published_unit, query) if query else []
        return page(request, "lookup.html", user=current_user(request), query=query, rows=rows)

    # --- login ------------------------------------------------------------------------------

    def login_page(request: Request, status: int = 200, error: str | None = None) -> Response:
        token = secrets.token_urlsafe(32)
        response = page(request, "login.html", status=status, csrf=token, error=error)
        response.set_cookie(
            LOGIN_COOKIE,
            signer.login_cookie(token),
            max_age=3600,
            httponly=True,
            samesite="strict",
            secure=config.secure_cookies,
        )
        return response

    async def login(request: Request) -> Response:
        if request.method == "GET":
            return login_page(request)
        form = await request.form(max_files=0, max_fields=10)
        expected = signer.login_token(request.cookies.get(LOGIN_COOKIE))
        if not auth.same_token(expected, form.get("csrf")):
            raise HTTPException(403, "Phiên làm việc không hợp lệ (mã chống giả mạo)")
        login_name = str(form.get("login", "")).strip()[:64]
        password = str(form.get("password", ""))[:256]
        where = address(request)
        with connect() as con:
            if auth.is_rate_limited(con, login_name, where):
                audit(con, login_name, where, "login_limited")
                return login_page(request, 429, "Đăng nhập sai quá nhiều lần; thử lại sau 15 phút.")
        account = await run_in_threadpool(_check, login_name, password)
        with connect() as con:
            if account is None:
                auth.record_failure(con, login_name, where)
                audit(con, login_name, where, "login_failed")
                return login_page(request, 401, "Tên đăng nhập hoặc mật khẩu không đúng.")
            session_id = auth.open_session(con, login_name)
            audit(con, login_name, where, "login")
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            signer.session_cookie(session_id),
            max_age=auth.SESSION_HOURS * 3600,
            httponly=True,
            samesite="strict",
            secure=config.secure_cookies,
        )
        response.delete_cookie(LOGIN_COOKIE)
        return response

    def _check(login_name: str, password: str):
        with connect() as con:
            return auth.check_password(con, login_name, password)

    async def logout(request: Request) -> Response:
        user = need_user(request)
        await checked_form(request, user)
        with connect() as con:
            auth.close_session(con, user.session_id)
            audit(con, user.login, address(request), "logout")
        response = RedirectResponse("/", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    # --- units ------------------------------------------------------------------------------

    def unit_history(unit_id: str) -> list[dict]:
        with connect() as con:
            rows = con.execute(
                "SELECT * FROM portal_submissions WHERE unit_id = ? AND year = ? "
                "ORDER BY received_at DESC",
                (unit_id, year),
            ).fetchall()
        return [dict(r) for r in rows]

    async def unit_home(request: Request) -> Response:
        user = need_user(request)
        unit = unit_for(user, request.path_params["unit_id"])
        framework = preset.framework(unit["level"])
        states = await run_in_threadpool(results.submission_states, year)
        return page(
            request,
            "unit.html",
            user=user,
            unit=unit,
            state=states.get(unit["unit_id"]),
            deadline=deadline(),
            pillars=[(p, len(leaves)) for p, leaves in pillars(framework)],
            history=unit_history(unit["unit_id"]),
            max_upload=MAX_UPLOAD_BYTES,
        )

    async def unit_template(request: Request) -> Response:
        user = need_user(request)
        unit = unit_for(user, request.path_params["unit_id"])
        content = await run_in_threadpool(template_bytes, preset, unit, year)
        return Response(
            content,
            media_type=XLSX,
            headers={
                "Content-Disposition": f'attachment; filename="DTI_{year}_'
                f'{_SAFE_ID.sub("_", unit["unit_id"])}.xlsx"'
            },
        )

    def receive(user: User, unit: dict, content: bytes, via: str, where: str):
        """Dry-run ``content`` as the inbox would, land it when the rules say so; audited."""
        sha = hashlib.sha256(content).hexdigest()
        received = received_now()
        stamp = received.strftime("%Y%m%dT%H%M%SZ")
        safe_unit = _SAFE_ID.sub("_", unit["unit_id"])
        name = f"DTI_{year}_{safe_unit}_{stamp}_{sha[:8]}.xlsx"
        with tempfile.TemporaryDirectory(prefix="dti-portal-") as folder:
            path = Path(folder) / name
            path.write_bytes(content)
            outcome = dry_run(preset, path, year, name, sha, received, results.next_received_seq())
        problems = []
        if outcome.kind != "self" and outcome.status != "refused":
            problems.append("tệp không phải tệp tự đánh giá")
        if outcome.status != "refused" and outcome.unit_id != unit["unit_id"]:
            problems.append(
                f"tệp là của đơn vị {outcome.unit_id}, không phải {unit['unit_id']}: "
                "tải mẫu của chính đơn vị"
            )
        land = outcome.status != "refused" and not problems
        if via == "online":
            land = land and not outcome.refusals
        landed = None
        if land:
            landed = land_in_inbox(content, year, f"portal/{unit['level']}", name, received)
        status = outcome.status if not problems else "refused"
        with connect() as con:
            con.execute(
                "INSERT INTO portal_submissions VALUES (?, ?, ?, ?, 'self', ?, ?, ?, ?, "
                "datetime('now'))",
                (
                    sha,
                    year,
                    unit["level"],
                    unit["unit_id"],
                    user.login,
                    via,
                    status if land else f"not_landed:{status}",
                    str(landed) if landed else None,
                ),
            )
            audit(
                con,
                user.login,
                where,
                f"submit_{via}",
                unit["unit_id"],
                sha,
                f"{status}; {'inbox ' + str(landed) if landed else 'không đưa vào hộp thư'}",
            )
        return outcome, problems, landed

    async def unit_upload(request: Request) -> Response:
        user = need_user(request, "unit", "officer")  # the officer may upload a mailed workbook
        unit = unit_for(user, request.path_params["unit_id"])
        form = await checked_form(request, user)
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise HTTPException(400, "Chưa chọn tệp")
        content = await upload.read(MAX_UPLOAD_BYTES + 1)
        await upload.close()
        try:
            check_upload(content)
        except UploadRefused as refusal:
            with connect() as con:
                audit(
                    con,
                    user.login,
                    address(request),
                    "upload_refused",
                    unit["unit_id"],
                    hashlib.sha256(content).hexdigest(),
                    str(refusal),
                )
            status = 413 if len(content) > MAX_UPLOAD_BYTES else 422
            return page(
                request,
                "receipt.html",
                status=status,
                user=user,
                unit=unit,
                refused=str(refusal),
                outcome=None,
                problems=[],
                landed=None,
            )
        outcome, problems, landed = await run_in_threadpool(
            receive, user, unit, content, "upload", address(request)
        )
        return page(
            request,
            "receipt.html",
            user=user,
            unit=unit,
            refused=None,
            outcome=outcome,
            problems=problems,
            landed=landed,
        )

    def pillar_of(unit: dict, pillar_id: str):
        for pillar, leaves in pillars(preset.framework(unit["level"])):
            if pillar.id == pillar_id:
                return pillar, leaves
        raise HTTPException(404, "Không có chỉ số chính này")

    async def unit_fill(request: Request) -> Response:
        user = need_user(request)
        unit = unit_for(user, request.path_params["unit_id"])
        if user.role != "unit":
            raise HTTPException(403, "Chỉ đơn vị nhập số liệu của mình")
        pillar, leaves = pillar_of(unit, request.path_params["pillar_id"])
        saved = False
        if request.method == "POST":
            form = await checked_form(request, user)
            entries = {
                node.id: read_entry(
                    node,
                    str(form.get(f"value-{node.id}", "")),
                    str(form.get(f"points-{node.id}", "")),
                    str(form.get(f"evidence-{node.id}", "")),
                )
                for node in leaves
            }
            with connect() as con:
                save_drafts(con, unit["unit_id"], year, entries)
                audit(
                    con,
                    user.login,
                    address(request),
                    "draft_save",
                    f"{unit['unit_id']}/{pillar.id}",
                    _entries_sha(entries),
                )
            saved = True
        else:
            with connect() as con:
                drafts = load_drafts(con, unit["unit_id"], year)
            entries = {
                k: v
                for k, v in all_entries(preset, unit, drafts).items()
                if k in {n.id for n in leaves}
            }
        all_pillars = pillars(preset.framework(unit["level"]))
        return page(
            request,
            "fill.html",
            user=user,
            unit=unit,
            pillar=pillar,
            leaves=leaves,
            entries=entries,
            saved=saved,
            unit_label=unit_label,
            all_pillars=[p for p, _ in all_pillars],
            errors=any(e.has_error for e in entries.values()),
        )

    async def unit_submit(request: Request) -> Response:
        user = need_user(request)
        unit = unit_for(user, request.path_params["unit_id"])
        if user.role != "unit":
            raise HTTPException(403, "Chỉ đơn vị nộp số liệu của mình")
        await checked_form(request, user)
        with connect() as con:
            drafts = load_drafts(con, unit["unit_id"], year)
        entries = all_entries(preset, unit, drafts)
        bad = {k: e for k, e in entries.items() if e.has_error}
        if bad:
            return page(
                request,
                "receipt.html",
                status=422,
                user=user,
                unit=unit,
                refused="Còn ô nhập chưa hợp lệ: "
                + ", ".join(
                    f"{k} ({e.value_error or e.points_error or e.evidence_error})"
                    for k, e in bad.items()
                ),
                outcome=None,
                problems=[],
                landed=None,
            )
        content = await run_in_threadpool(filled_workbook, preset, unit, year, entries)
        outcome, problems, landed = await run_in_threadpool(
            receive, user, unit, content, "online", address(request)
        )
        return page(
            request,
            "receipt.html",
            user=user,
            unit=unit,
            refused=None,
            outcome=outcome,
            problems=problems,
            landed=landed,
        )

    def released_period() -> int:
        with connect() as con:
            row = con.execute(
                "SELECT max(period) FROM released_periods WHERE year = ?", (year,)
            ).fetchone()
        return row[0] or 0

    async def unit_results(request: Request) -> Response:
        user = need_user(request)
        unit = unit_for(user, request.path_params["unit_id"])
        released = released_period()
        periods = await run_in_threadpool(results.unit_periods, year, unit["unit_id"], released)
        latest = await run_in_threadpool(results.latest_period, year)
        # the adjustments are the warehouse's current state: shown once that state is released
        current = latest is not None and released >= latest["period"]
        adjustments = (
            await run_in_threadpool(results.unit_adjustments, preset, year, unit["unit_id"])
            if current
            else []
        )
        return page(
            request,
            "results.html",
            user=user,
            unit=unit,
            periods=periods,
            adjustments=adjustments,
            released=released,
            current=current,
        )

    # --- officer ----------------------------------------------------------------------------

    def board_rows() -> list[dict]:
        states = results.submission_states(year)
        with connect() as con:
            portal = {
                row["unit_id"]: row["status"]
                for row in con.execute(
                    "SELECT unit_id, status FROM portal_submissions WHERE year = ? AND "
                    "kind = 'self' ORDER BY received_at",
                    (year,),
                )
            }
        rows = []
        for unit in registry.values():
            state = states.get(unit["unit_id"])
            if state is None:
                sent = portal.get(unit["unit_id"])
                if sent is None:
                    state = "missing"
                elif sent.startswith("not_landed"):
                    state = "refused"
                else:
                    state = "landed"
            rows.append({**unit, "state": state})
        return sorted(rows, key=lambda r: (list(preset.levels).index(r["level"]), r["unit_id"]))

    async def officer(request: Request) -> Response:
        user = need_user(request, "officer")
        rows = await run_in_threadpool(board_rows)
        counts: dict[str, dict[str, int]] = {}
        for row in rows:
            per_level = counts.setdefault(row["level"], {})
            per_level[row["state"]] = per_level.get(row["state"], 0) + 1
        latest = await run_in_threadpool(results.latest_period, year)
        return page(
            request,
            "officer.html",
            user=user,
            rows=rows,
            counts=counts,
            deadline=deadline(),
            latest=latest,
            released=released_period(),
        )

    async def officer_release(request: Request) -> Response:
        user = need_user(request, "officer")
        form = await checked_form(request, user)
        latest = await run_in_threadpool(results.latest_period, year)
        period = str(form.get("period", ""))
        if latest is None or period != str(latest["period"]):
            raise HTTPException(422, "Chỉ công bố được đợt cập nhật mới nhất")
        with connect() as con:
            con.execute(
                "INSERT OR IGNORE INTO released_periods VALUES (?, ?, ?, datetime('now'))",
                (year, latest["period"], user.login),
            )
            audit(con, user.login, address(request), "period_release", f"{year}/{period}")
        return RedirectResponse("/officer", status_code=303)

    async def officer_export(request: Request) -> Response:
        user = need_user(request, "officer")
        rows = await run_in_threadpool(board_rows)
        buffer = io.BytesIO()
        book = xlsxwriter.Workbook(buffer, {"in_memory": True})
        sheet = book.add_worksheet("Tình hình nộp")
        write_text_cell(sheet, 0, 0, f"Tình hình nộp số liệu DTI năm {year}")
        due = deadline()
        if due:
            write_text_cell(sheet, 1, 0, f"Hạn nộp: {due['due_date']} ({due['source']})")
        for col, text in enumerate(("Cấp", "Mã đơn vị", "Tên đơn vị", "Tình trạng")):
            write_text_cell(sheet, 3, col, text)
        for i, row in enumerate(rows, start=4):
            for col, text in enumerate(
                (
                    LEVEL_NAMES.get(row["level"], row["level"]),
                    row["unit_id"],
                    row["name"],
                    STATUS_NAMES[row["state"]],
                )
            ):
                write_text_cell(sheet, i, col, text)
        book.close()
        with connect() as con:
            audit(con, user.login, address(request), "board_export", str(year))
        return Response(
            buffer.getvalue(),
            media_type=XLSX,
            headers={"Content-Disposition": f'attachment; filename="tinh-hinh-nop-{year}.xlsx"'},
        )

    async def officer_deadline(request: Request) -> Response:
        user = need_user(request, "officer")
        form = await checked_form(request, user)
        due, source = str(form.get("due_date", "")).strip(), str(form.get("source", "")).strip()
        try:
            dt.date.fromisoformat(due)
        except ValueError as exc:
            raise HTTPException(422, "Ngày không hợp lệ (YYYY-MM-DD)") from exc
        if not source:
            raise HTTPException(422, "Cần ghi căn cứ (văn bản quy định hạn nộp)")
        with connect() as con:
            con.execute(
                "INSERT INTO deadlines VALUES (?, ?, ?, ?, datetime('now')) ON CONFLICT (year) "
                "DO UPDATE SET due_date = excluded.due_date, source = excluded.source, "
                "set_by = excluded.set_by, set_at = excluded.set_at",
                (year, due, source[:300], user.login),
            )
            audit(
                con,
                user.login,
                address(request),
                "deadline_set",
                str(year),
                hashlib.sha256(f"{due}|{source}".encode()).hexdigest(),
            )
        return RedirectResponse("/officer", status_code=303)

    # --- appraisers -------------------------------------------------------------------------

    async def appraisal_home(request: Request) -> Response:
        user = need_user(request, "appraiser")
        units = [u for u in registry.values() if u["level"] == user.level]
        return page(request, "appraisal_units.html", user=user, units=units)

    async def appraisal_unit(request: Request) -> Response:
        user = need_user(request, "appraiser")
        unit = unit_for(user, request.path_params["unit_id"])
        leaves = preset.framework(unit["level"]).leaves()
        errors: dict[str, str] = {}
        outcome = None
        landed = None
        typed: dict[str, dict[str, str]] = {}
        if request.method == "POST":
            form = await checked_form(request, user)
            rows = []
            for node in leaves:
                value = str(form.get(f"value-{node.id}", "")).strip()
                points = str(form.get(f"points-{node.id}", "")).strip()
                reason = str(form.get(f"reason-{node.id}", "")).strip()
                typed[node.id] = {"value": value, "points": points, "reason": reason}
                if not (value or points or reason):
                    continue
                row = {
                    "unit_id": unit["unit_id"],
                    "unit_name": unit["name"],
                    "indicator_id": node.id,
                    "reason": reason,
                }
                if value:
                    row["appraised_value"] = value
                if points:
                    row["appraised_points"] = points
                rows.append(row)
            if not rows:
                errors["_"] = "Chưa nhập điều chỉnh nào"
            else:
                outcome, landed = await run_in_threadpool(
                    _appraise, user, unit, rows, address(request)
                )
                for refusal in outcome.refusals:
                    errors[refusal["indicator_id"] or "_"] = refusal["message"]
        return page(
            request,
            "appraisal_unit.html",
            user=user,
            unit=unit,
            leaves=leaves,
            typed=typed,
            errors=errors,
            outcome=outcome,
            landed=landed,
        )

    def _appraise(user: User, unit: dict, rows: list[dict], where: str):
        from dti_portal.pipeline import appraisal_workbook_bytes

        level = unit["level"]
        content = appraisal_workbook_bytes(preset, level, year, rows)
        sha = hashlib.sha256(content).hexdigest()
        received = received_now()
        stamp = received.strftime("%Y%m%dT%H%M%SZ")
        name = f"THAM_DINH_{year}_{level}_{_SAFE_ID.sub('_', unit['unit_id'])}_{stamp}.xlsx"
        with tempfile.TemporaryDirectory(prefix="dti-portal-") as folder:
            path = Path(folder) / name
            path.write_bytes(content)
            outcome = dry_run(preset, path, year, name, sha, received, results.next_received_seq())
        landed = None
        if outcome.status != "refused" and not outcome.refusals:
            landed = land_in_inbox(content, year, f"portal/{level}", name, received)
        with connect() as con:
            con.execute(
                "INSERT INTO portal_submissions VALUES (?, ?, ?, ?, 'appraisal', ?, 'appraisal', "
                "?, ?, datetime('now'))",
                (
                    sha,
                    year,
                    level,
                    unit["unit_id"],
                    user.login,
                    outcome.status if landed else f"not_landed:{outcome.status}",
                    str(landed) if landed else None,
                ),
            )
            audit(con, user.login, where, "appraisal_submit", unit["unit_id"], sha, outcome.status)
        return outcome, landed

    # --- errors -----------------------------------------------------------------------------

    async def http_error(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 401:
            return RedirectResponse("/login", status_code=303)
        return page(request, "error.html", status=exc.status_code, message=exc.detail)

    routes = [
        Route("/", home),
        Route("/login", login, methods=["GET", "POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/public", public),
        Route("/public/snapshot/{snapshot_id}", public_snapshot),
        Route("/public/lookup", public_lookup),
        Route("/unit/{unit_id}", unit_home),
        Route("/unit/{unit_id}/template.xlsx", unit_template),
        Route("/unit/{unit_id}/upload", unit_upload, methods=["POST"]),
        Route("/unit/{unit_id}/fill/{pillar_id}", unit_fill, methods=["GET", "POST"]),
        Route("/unit/{unit_id}/submit", unit_submit, methods=["POST"]),
        Route("/unit/{unit_id}/results", unit_results),
        Route("/officer", officer),
        Route("/officer/board.xlsx", officer_export),
        Route("/officer/deadline", officer_deadline, methods=["POST"]),
        Route("/officer/release", officer_release, methods=["POST"]),
        Route("/appraisal", appraisal_home),
        Route("/appraisal/{unit_id}", appraisal_unit, methods=["GET", "POST"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    return Starlette(
        routes=routes,
        middleware=[Middleware(_SecurityHeaders)],
        exception_handlers={HTTPException: http_error},
    )


def _entries_sha(entries: dict[str, CellEntry]) -> str:
    text = "\n".join(
        f"{k}\t{e.value_text}\t{e.points_text}\t{e.evidence}" for k, e in sorted(entries.items())
    )
    return hashlib.sha256(text.encode()).hexdigest()
