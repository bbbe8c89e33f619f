"""The portal's ASGI application (Starlette): the pages of each role, the static stylesheet, the
security headers and the error pages.

Every request finds its user from the signed session cookie; every page under ``/unit/<id>``
checks that the user may see that unit (a unit only itself, an appraiser its level, the officer
all); every POST carries the session's CSRF token (the login form a signed one of its own); every
write is an audit line (:mod:`dti_portal.web`).
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from dti_portal import pages_account, pages_appraisal, pages_officer, pages_public, pages_unit
from dti_portal.web import HERE, Portal, PortalConfig, SecurityHeaders

__all__ = ["PortalConfig", "create_app"]


def create_app(config: PortalConfig) -> Starlette:
    """The portal for ``config`` (its store and inbox under ``$DTI_HOME``)."""
    portal = Portal(config)

    async def http_error(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 401:
            return RedirectResponse("/login", status_code=303)
        return portal.page(request, "error.html", status=exc.status_code, message=exc.detail)

    routes = [
        *pages_public.routes(portal),
        *pages_unit.routes(portal),
        *pages_officer.routes(portal),
        *pages_appraisal.routes(portal),
        *pages_account.routes(portal),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    return Starlette(
        routes=routes,
        middleware=[Middleware(SecurityHeaders)],
        exception_handlers={HTTPException: http_error},
    )
