"""Pages anyone may open: the published results, the unit lookup, logging in and out."""

from __future__ import annotations

import secrets

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from dti_portal import auth, results
from dti_portal.auth import LOGIN_COOKIE, SESSION_COOKIE
from dti_portal.store import audit, connect
from dti_portal.web import Portal


def routes(portal: Portal) -> list[Route]:
    """These pages, bound to ``portal``."""
    page = portal.page
    need_user = portal.need_user
    current_user = portal.current_user
    checked_form = portal.checked_form
    address = portal.address
    config = portal.config
    signer = portal.signer

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

    return [
        Route("/", home),
        Route("/login", login, methods=["GET", "POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/public", public),
        Route("/public/snapshot/{snapshot_id}", public_snapshot),
        Route("/public/lookup", public_lookup),
    ]
