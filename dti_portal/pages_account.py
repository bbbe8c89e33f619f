"""Every user's own account: changing one's password (the initial one was handed out on paper)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dti_portal import auth
from dti_portal.passwords import hash_password
from dti_portal.store import audit, connect, now_text
from dti_portal.web import Portal

MIN_PASSWORD = 10


def routes(portal: Portal) -> list[Route]:
    """These pages, bound to ``portal``."""

    def change(login: str, current: str, new: str) -> bool:
        with connect() as con:
            if auth.check_password(con, login, current) is None:
                return False
            con.execute(
                "UPDATE accounts SET password_hash = ?, password_set_at = ? WHERE login = ?",
                (hash_password(new), now_text(), login),
            )
            return True

    async def password(request: Request) -> Response:
        user = portal.need_user(request)
        error = done = None
        status = 200
        if request.method == "POST":
            form = await portal.checked_form(request, user)
            current, new = str(form.get("current", "")), str(form.get("new", ""))
            if len(new) < MIN_PASSWORD or len(new) > 256:
                error, status = f"Mật khẩu mới cần từ {MIN_PASSWORD} đến 256 ký tự.", 422
            elif new != str(form.get("confirm", "")):
                error, status = "Hai lần nhập mật khẩu mới không giống nhau.", 422
            elif not await run_in_threadpool(change, user.login, current, new):
                error, status = "Mật khẩu hiện tại không đúng.", 403
            else:
                with connect() as con:
                    con.execute(
                        "DELETE FROM sessions WHERE login = ? AND session_id != ?",
                        (user.login, user.session_id),
                    )
                    audit(con, user.login, portal.address(request), "password_change", user.login)
                done = "Đã đổi mật khẩu; các phiên đăng nhập khác đã được đóng."
            if error:
                with connect() as con:
                    audit(con, user.login, portal.address(request), "password_change_refused")
        return portal.page(
            request, "password.html", status=status, user=user, error=error, done=done
        )

    return [Route("/account/password", password, methods=["GET", "POST"])]
