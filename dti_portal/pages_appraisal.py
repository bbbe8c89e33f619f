"""The appraisers' pages: the units of their level, and per unit the appraised values or points
with a reason, written as the appraisal workbook the intake reads."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dti_portal import results
from dti_portal.auth import User
from dti_portal.pipeline import dry_run, land_in_inbox, received_now
from dti_portal.store import audit, connect
from dti_portal.web import SAFE_ID, Portal


def routes(portal: Portal) -> list[Route]:
    """These pages, bound to ``portal``."""
    page = portal.page
    need_user = portal.need_user
    unit_for = portal.unit_for
    checked_form = portal.checked_form
    address = portal.address
    preset = portal.preset
    year = portal.year
    registry = portal.registry

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
        name = f"THAM_DINH_{year}_{level}_{SAFE_ID.sub('_', unit['unit_id'])}_{stamp}.xlsx"
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

    return [
        Route("/appraisal", appraisal_home),
        Route("/appraisal/{unit_id}", appraisal_unit, methods=["GET", "POST"]),
    ]
