"""Vietnamese wording, number and time format for what people read (reports, annexes,
receipts, CLI summaries)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

LEVEL_NAMES = {
    "department": "Cấp sở (sở, ban, ngành)",
    "district": "Cấp huyện",
    "commune": "Cấp xã",
    "province": "Cấp tỉnh",
}

METHOD_NAMES = {
    "points": "Chấm điểm theo thang điểm (rubric)",
    "minmax": "Chuẩn hóa Min-Max",
    "zscore": "Chuẩn hóa Z-Score (Φ(z) × điểm tối đa)",
}


def vn_number(value: float | None, decimals: int = 2) -> str:
    """Vietnamese format: ``.`` groups thousands, ``,`` marks decimals (1.234,56)."""
    if value is None:
        return "–"
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\u0000").replace(".", ",").replace("\u0000", ".")


def _vietnam_zone() -> dt.tzinfo:
    """Asia/Ho_Chi_Minh from the tz database; a fixed UTC+7 is exactly the same zone (Vietnam
    has had no daylight saving since 1975) when no tz database is installed."""
    try:
        return ZoneInfo("Asia/Ho_Chi_Minh")
    except ZoneInfoNotFoundError:
        return dt.timezone(dt.timedelta(hours=7), "ICT")


VIETNAM_ZONE = _vietnam_zone()
ZONE_NAME = "giờ Việt Nam, UTC+7"


def vietnam_time(value: dt.datetime) -> dt.datetime:
    """``value`` in Vietnam's time; a naive timestamp is read as UTC (how the warehouse stores
    times)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(VIETNAM_ZONE)


def vn_time(
    value: dt.datetime | dt.date | str | None, seconds: bool = False, zone: bool = True
) -> str:
    """A moment as people in Vietnam read it, the zone named:
    ``07/12/2026 10:15 (giờ Việt Nam, UTC+7)``; a date alone is ``07/12/2026``; None is ``–``.
    ISO strings are parsed first (naive means UTC). ``zone=False`` leaves the zone out, for a
    table whose column header names it."""
    if value is None:
        return "–"
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    if not isinstance(value, dt.datetime):
        return value.strftime("%d/%m/%Y")
    shown = vietnam_time(value).strftime("%d/%m/%Y %H:%M:%S" if seconds else "%d/%m/%Y %H:%M")
    return f"{shown} ({ZONE_NAME})" if zone else shown
