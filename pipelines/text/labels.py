"""Vietnamese wording, number and time format for what people read (reports, annexes,
receipts, CLI summaries): the one table of names of every level, method and setting, and the
one way each kind of number is written."""

from __future__ import annotations

import datetime as dt
import math
import numbers
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# ---------------------------------------------------------------- names of levels and settings

# a level as a title (a sheet of the annex: at most 31 characters) …
LEVEL_SHORT_NAMES = {
    "department": "Cấp sở",
    "district": "Cấp huyện",
    "commune": "Cấp xã",
    "province": "Cấp tỉnh",
}
# … what its units are called …
LEVEL_UNIT_NAMES = {
    "department": "sở, ban, ngành",
    "district": "huyện, thị xã, thành phố",
    "commune": "xã, phường, thị trấn",
    "province": "tỉnh",
}
# … and as tables and headings name it
LEVEL_NAMES = {
    **LEVEL_SHORT_NAMES,
    "department": f"{LEVEL_SHORT_NAMES['department']} ({LEVEL_UNIT_NAMES['department']})",
}

# The keys of each table are the values of the matching type in pipelines/scoring/methods.py
# (a test holds them equal).
METHOD_NAMES = {
    "points": "Chấm điểm theo thang điểm (rubric)",
    "minmax": "Chuẩn hóa Min-Max",
    "zscore": "Chuẩn hóa Z-Score (Φ(z) × điểm tối đa)",
}
METHOD_SHORT_NAMES = {"points": "Thang điểm", "minmax": "Min-Max", "zscore": "Z-Score"}
MISSING_RULE_NAMES = {
    "zero": "không có số liệu báo cáo → 0 điểm",
    "exclude": "không có số liệu → loại khỏi tính toán, tái phân bổ trọng số",
    "mean": "không có số liệu → điểm trung bình nhóm",
}
BOUNDS_NAMES = {
    "observed": "giá trị nhỏ nhất và lớn nhất trong nhóm so sánh",
    "pooled": "giá trị nhỏ nhất và lớn nhất trong nhóm so sánh qua mọi năm",
    "goalposts": "cận cố định của bộ chỉ số",
}
ZSCORE_MODE_NAMES = {
    "cdf": "Φ(z) × điểm tối đa",
    "rescaled": "(0,5 + 0,1 × z, giới hạn trong 0 – 1) × điểm tối đa",
}
READING_NAMES = {
    "total_only": "chỉ xét tổng điểm",
    "total_and_pillars": "xét tổng điểm và từng chỉ số chính",
}
DVCTT_SCOPE_NAMES = {"index": "trên toàn bộ chỉ số", "pillar": "trong chỉ số chính"}
COMPARISON_GROUP_NAMES = {
    "level": "toàn bộ đơn vị cùng cấp",
    "parent": "theo đơn vị cấp trên (xã xếp hạng trong huyện)",
}
UNCLASSIFIED = "Không xếp loại"

# A snapshot's settings (its ``params``) as the method page names them.
PARAM_LABELS = {
    "method": "Phương pháp",
    "missing": "Quy tắc thiếu số liệu",
    "rank_precision": "Độ chính xác khi so sánh điểm để xếp hạng",
    "ties": "Đồng hạng",
    "preset": "Bộ cấu hình (preset)",
    "comparison_group": "Nhóm so sánh",
    "classification_reading": "Cách đọc ngưỡng xếp loại",
    "clip": "Giới hạn điểm trong khoảng 0 – điểm tối đa",
    "lineage": "Tệp kế thừa đơn vị (chia tách, sáp nhập)",
    "minmax_bounds": "Cận của chuẩn hóa Min-Max",
    "node_normalisation": "Cách chuẩn hóa riêng của từng chỉ tiêu (theo khung chỉ số)",
    "reference_year": "Năm tham chiếu",
    "rules": "Quy tắc đặc thù",
    "zscore_mode": "Cách quy đổi Z-Score ra điểm",
    "zscore_rescale": "Công thức quy đổi Z-Score",
}
# (setting, value as text) → what the value means
PARAM_VALUES = {
    **{("method", key): name for key, name in METHOD_NAMES.items()},
    **{("missing", key): name for key, name in MISSING_RULE_NAMES.items()},
    **{("minmax_bounds", key): name for key, name in BOUNDS_NAMES.items()},
    **{("zscore_mode", key): name for key, name in ZSCORE_MODE_NAMES.items()},
    **{("classification_reading", key): name for key, name in READING_NAMES.items()},
    **{("comparison_group", key): name for key, name in COMPARISON_GROUP_NAMES.items()},
    ("classification_reading", "None"): "không xếp loại",
    ("ties", "min"): "đồng điểm thì cùng hạng thấp nhất (1, 2, 2, 4)",
    ("clip", "True"): "có",
    ("clip", "False"): "không",
    ("lineage", "None"): "không có",
    ("node_normalisation", "{}"): "không có (mọi chỉ tiêu theo phương pháp chung)",
    ("reference_year", "None"): "không có (mỗi năm chuẩn hóa riêng)",
}


def sentence(text: str) -> str:
    """``text`` with its first letter capitalised, for a label that starts a line."""
    return text[:1].upper() + text[1:]


# What gave a leaf its points (``leaf_scores.rule_applied``), as the method page lists them.
RULE_NAMES = {
    **{f"missing.{key}": sentence(name) for key, name in MISSING_RULE_NAMES.items()},
    "sonla.special_units_max": "Đơn vị đặc thù: tiêu chí không liên quan chức năng → điểm tối đa",
    "sonla.subordinate_best": "Không có đơn vị trực thuộc → điểm cao nhất của nhóm",
    "sonla.dvctt_proportional": "Không có DVCTT → điểm theo tỷ lệ các chỉ số không phải DVCTT",
    "points.ratio": "Thang điểm: tỷ lệ so với mục tiêu",
    "points.steps": "Thang điểm: theo bậc",
    "points.yesno": "Thang điểm: có/không",
    "points.categorical": "Thang điểm: theo loại",
    "points.relative_best": "Thang điểm: so với đơn vị tốt nhất",
    "points.direct": "Thang điểm: điểm nhập trực tiếp",
}

# ---------------------------------------------------------------- numbers

NO_NUMBER = "–"  # a number that is not there (None, NaN)


def _absent(value: float | None) -> bool:
    return value is None or (isinstance(value, numbers.Real) and math.isnan(value))


def vn_number(value: float | None, decimals: int = 2) -> str:
    """A computed figure with ``decimals`` decimals, Vietnamese style: ``.`` groups thousands,
    ``,`` marks decimals (1.234,56); None or NaN is ``–``."""
    if _absent(value):
        return NO_NUMBER
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\u0000").replace(".", ",").replace("\u0000", ".")


def vn_count(count: int) -> str:
    """A whole number with Vietnamese thousands dots (20.971.520)."""
    return vn_number(count, 0)


def vn_percent(ratio: float | None, decimals: int = 1) -> str:
    """A ratio (0.123) as a percentage: ``12,3%``; None or NaN is ``–``."""
    if _absent(ratio):
        return NO_NUMBER
    return f"{vn_number(ratio * 100, decimals)}%"  # type: ignore[operator]


def vn_signed(value: float | None, decimals: int = 2) -> str:
    """A change, its sign always shown when positive: ``+1,50``, ``-0,25``, ``0,00``."""
    if _absent(value):
        return NO_NUMBER
    return ("+" if value > 0 else "") + vn_number(value, decimals)  # type: ignore[operator]


def vn_value(value: float | None) -> str:
    """A value the way a Vietnamese user types it or a framework states it: as few decimals as
    it has (at most 10 significant digits, float noise below 1e-9 dropped), decimal comma, no
    thousands dots, no exponent below 1e10 (85,5; 1,25; 1000); None or NaN is ``–``."""
    if _absent(value):
        return NO_NUMBER
    return format(round(value, 9), ".10g").replace(".", ",")  # type: ignore[arg-type]


def vn_seconds(seconds: float) -> str:
    """A duration in seconds with one decimal: ``3,1 s``."""
    return f"{vn_number(seconds, 1)} s"


# ---------------------------------------------------------------- times


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
