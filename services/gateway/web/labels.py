"""The dashboard's words in Vietnamese and English, in the committee's own terms (GLOSSARY.md)."""

from __future__ import annotations

from typing import Literal

Lang = Literal["vi", "en"]
LANGS: tuple[Lang, ...] = ("vi", "en")

# Band and status labels are the committee's (shared/reference/programs.yaml assessment_labels);
# the glyph beside each keeps the meaning when colour cannot be seen (print, colour blindness).
ASSESSMENTS: dict[str, tuple[str, str, str]] = {
    "completed": ("Hoàn thành", "Completed", "✔"),
    "ahead": ("Có khả năng hoàn thành trước thời hạn", "Likely ahead of deadline", "▲"),
    "likely": ("Có khả năng hoàn thành", "Likely to be met", "↗"),
    "low": ("Có khả năng hoàn thành thấp", "Low likelihood", "↘"),
    "hard": ("Khó hoàn thành", "Unlikely", "✖"),
    "unassessable": ("Khó đánh giá", "Hard to assess", "?"),
    "over_half": ("Đã thực hiện trên 50%", "More than half done", "◕"),
    "under_half": ("Đã thực hiện dưới 50%", "Less than half done", "◔"),
    # Scoring's own band and status for a goal with no value at all (docs/scoring.md §2).
    "no_data": ("Chưa có số liệu", "No data", "○"),
}
BANDS = ("completed", "over_half", "under_half", "no_data")
STATUSES = ("completed", "ahead", "likely", "low", "hard", "unassessable", "no_data")

PILLARS: dict[str, tuple[str, str]] = {
    "data": ("Dữ liệu số", "Digital data"),
    "gov": ("Chính phủ số", "Digital government"),
    "economy": ("Kinh tế số", "Digital economy"),
    "society": ("Xã hội số", "Digital society"),
    "security": ("An toàn thông tin mạng", "Cybersecurity"),
    "institutions": ("Thể chế số", "Digital institutions"),
}

SCOPES: dict[str, tuple[str, str]] = {
    "national": ("Toàn quốc", "National"),
    "central": ("Bộ, ngành", "Central agencies"),
    "local": ("Địa phương", "Provinces"),
}

REASONS: dict[str, tuple[str, str]] = {
    "missing": ("Chưa báo cáo", "Not reported"),
    "late": ("Báo cáo muộn", "Reported late"),
    "off_track": ("Chậm tiến độ", "Off track"),
}

# How a value reached the platform (the observation's `source`).
SOURCES: dict[str, tuple[str, str]] = {
    "api": ("API", "API"),
    "batch": ("API (lô)", "API (batch)"),
    "upload": ("Tệp tải lên", "Uploaded file"),
    "import": ("Nhập tập trung", "Bulk import"),
    "demo": ("DỮ LIỆU MẪU (make demo)", "SYNTHETIC DEMO DATA (make demo)"),
}

AGGREGATIONS: dict[str, tuple[str, str]] = {
    "share_of_agencies": (
        "Tỷ lệ cơ quan đạt trên tổng số cơ quan phải báo cáo",
        "Share of the expected agencies that achieved it",
    ),
    "by_group": (
        "Công bố riêng cho bộ, ngành và địa phương",
        "Published for ministries and provinces",
    ),
    "national": ("Một số liệu toàn quốc", "One national figure"),
    "mean": ("Trung bình các cơ quan", "Mean over agencies"),
    "ratio_of_sums": ("Tỷ số của các tổng", "Ratio of sums"),
}

UNITS: dict[str, tuple[str, str]] = {
    "percent": ("Phần trăm (%)", "Percent (%)"),
}

FREQUENCIES: dict[str, tuple[str, str]] = {
    "year": ("Hằng năm", "Yearly"),
    "half": ("6 tháng", "Half-yearly"),
    "quarter": ("Hằng quý", "Quarterly"),
    "month": ("Hằng tháng", "Monthly"),
}

AGENCY_KINDS: dict[str, tuple[str, str]] = {
    "ministry": ("Bộ", "Ministry"),
    "ministerial_agency": ("Cơ quan ngang bộ", "Ministerial-level agency"),
    "government_agency": ("Cơ quan thuộc Chính phủ", "Government agency"),
    "province": ("Tỉnh", "Province"),
    "city": ("Thành phố trực thuộc Trung ương", "Centrally-run city"),
}

# Interface text: key -> (Vietnamese, English).
TEXT: dict[str, tuple[str, str]] = {
    "site": ("Theo dõi chuyển đổi số quốc gia", "National digital transformation tracker"),
    "committee": (
        "Ủy ban Quốc gia về chuyển đổi số",
        "National Committee on Digital Transformation",
    ),
    "nav_overview": ("Tổng quan", "Overview"),
    "nav_rankings": ("Xếp hạng", "Rankings"),
    "nav_laggards": ("Cơ quan chậm tiến độ", "Lagging agencies"),
    "switch_lang": ("English", "Tiếng Việt"),
    "programme": ("Chương trình", "Programme"),
    "period": ("Kỳ báo cáo", "Reporting period"),
    "pillar": ("Trụ cột", "Pillar"),
    "all_pillars": ("Tất cả trụ cột", "All pillars"),
    "show": ("Xem", "Show"),
    "no_data": ("Chưa có dữ liệu", "No data yet"),
    "no_data_scores": (
        "Chưa có dữ liệu đánh giá cho kỳ này: dịch vụ chấm điểm chưa trả lời hoặc chưa có kết quả.",
        "No assessment for this period yet: the scoring service has not answered or has none.",
    ),
    "unavailable": ("Một số dịch vụ chưa phản hồi", "Some services did not answer"),
    "synthetic": (
        "Kỳ này có DỮ LIỆU MẪU (tổng hợp, không phải số liệu thật) được nạp bằng “make demo”.",
        "This period holds SYNTHETIC DEMO DATA (not real figures) loaded by “make demo”.",
    ),
    "download_csv": ("Tải CSV", "Download CSV"),
    "goals": ("Mục tiêu và chỉ tiêu", "Goals and indicators"),
    "bands_summary": ("Số mục tiêu theo mức độ thực hiện", "Goals per completion band"),
    "statuses_summary": ("Số mục tiêu theo khả năng hoàn thành", "Goals per likelihood"),
    "goal": ("Mục tiêu", "Goal"),
    "indicator": ("Chỉ tiêu", "Indicator"),
    "name": ("Tên", "Name"),
    "scope": ("Phạm vi", "Scope"),
    "value": ("Kết quả", "Result"),
    # Not "Mục tiêu" alone: that is the goal's column, and a CSV's headers must be distinct.
    "target": ("Giá trị mục tiêu", "Target"),
    "progress": ("Tiến độ", "Progress"),
    "band": ("Mức độ thực hiện", "Completion band"),
    "status": ("Khả năng hoàn thành", "Likelihood"),
    "official": ("Đánh giá chính thức", "Official assessment"),
    "explanation": ("Giải thích", "Explanation"),
    "count": ("Số mục tiêu", "Goals"),
    "not_scored": ("Chưa đánh giá", "Not assessed"),
    "fallback_note": (
        "Kết quả lấy từ số liệu tổng hợp; mức độ thực hiện sẽ hiện khi có kết quả chấm điểm.",
        "Results come from the aggregated figures; bands appear once the scoring service answers.",
    ),
    "definition": ("Thông tin chỉ tiêu", "Indicator definition"),
    "unit": ("Đơn vị", "Unit"),
    "direction": ("Chiều", "Direction"),
    "increase": ("Tăng", "Increasing"),
    "decrease": ("Giảm", "Decreasing"),
    "owner": ("Cơ quan chủ trì", "Lead agency"),
    "aggregation": ("Cách tổng hợp", "Aggregation"),
    "population": ("Đối tượng báo cáo", "Reporting agencies"),
    "reporting": ("Chế độ báo cáo", "Reporting regime"),
    "targets": ("Các mục tiêu", "Targets"),
    "year": ("Năm", "Year"),
    "series": ("Diễn biến theo kỳ", "Over time"),
    "projection": ("Dự báo", "Projection"),
    "chart_hint": (
        "Biểu đồ: kết quả theo kỳ (đường liền), mục tiêu (đường gạch), dự báo (chấm).",
        "Chart: results per period (solid), target (dashed), projection (dotted).",
    ),
    "source": ("Nguồn", "Source"),
    "published": ("Số liệu công bố", "Published figure"),
    "computed": ("Tổng hợp từ báo cáo của các cơ quan", "Aggregated from agencies' reports"),
    "completeness": ("Tình hình báo cáo", "Reporting completeness"),
    "reported": ("Đã báo cáo", "Reported"),
    "expected": ("Phải báo cáo", "Expected"),
    "rate": ("Tỷ lệ", "Rate"),
    "missing_agencies": ("Cơ quan chưa báo cáo", "Agencies not reported"),
    "breakdown": ("Kết quả theo cơ quan", "Results per agency"),
    "agency": ("Cơ quan", "Agency"),
    "reported_at": ("Ngày báo cáo", "Reported on"),
    "timeliness": ("Đúng hạn", "On time"),
    "on_time": ("Đúng hạn", "On time"),
    "late": ("Muộn", "Late"),
    "not_reported": ("Chưa báo cáo", "Not reported"),
    "not_expected": ("Không phải báo cáo", "Not expected to report"),
    "province_map": ("Bản đồ các tỉnh, thành phố", "Map of the provinces"),
    "map_class": ("Nhóm trên bản đồ", "Map class"),
    "map_hint": (
        "Mỗi ô là một tỉnh, thành phố, đặt theo vị trí gần đúng của tỉnh lỵ (bản đồ lưới ô); "
        "ô viền đứt là tỉnh đã sáp nhập, mang màu của tỉnh tiếp nhận. Số liệu ở bảng dưới.",
        "Each square is a province, placed by the approximate position of its capital (a tile "
        "grid map); a dashed square is a merged province, in the colour of the one it joined. "
        "The figures are in the table below.",
    ),
    "yes": ("Có", "Yes"),
    "no": ("Không", "No"),
    "rankings": ("Xếp hạng chuyển đổi số", "Digital transformation rankings"),
    "rank": ("Hạng", "Rank"),
    "score": ("Chỉ số", "Index"),
    "previous_rank": ("Hạng kỳ trước", "Previous rank"),
    "change": ("Thay đổi", "Change"),
    "up": ("lên", "up"),
    "down": ("xuống", "down"),
    "same": ("giữ nguyên", "unchanged"),
    "new": ("mới", "new"),
    "kind": ("Loại", "Kind"),
    "code": ("Mã", "Code"),
    "due": ("hạn {days} ngày sau kỳ", "due {days} days after the period"),
    "successor": ("Sáp nhập vào", "Merged into"),
    "predecessors": ("Tiếp nhận từ", "Absorbed"),
    "valid": ("Hiệu lực", "Valid"),
    "its_indicators": ("Các chỉ tiêu phải báo cáo", "Indicators it reports"),
    "missing_reports": ("Báo cáo còn thiếu", "Missing reports"),
    "ranking_position": ("Vị trí xếp hạng", "Ranking position"),
    "lagging_reasons": ("Lý do chậm tiến độ", "Why it is lagging"),
    "notifications": ("Lịch sử nhắc nhở", "Reminder history"),
    "subject": ("Tiêu đề", "Subject"),
    "date": ("Ngày", "Date"),
    "delivery": ("Trạng thái gửi", "Delivery"),
    "laggards": ("Cơ quan chậm tiến độ", "Lagging agencies"),
    "reason": ("Lý do", "Reason"),
    "reasons_detail": ("Chi tiết từng lý do", "Every reason"),
    "total": ("Tổng", "Total"),
    "detail": ("Chi tiết", "Detail"),
    "not_found": ("Không tìm thấy", "Not found"),
    "print": ("In trang", "Print"),
    "offline_note": (
        "Số liệu do Ủy ban Quốc gia về chuyển đổi số công bố. Trang không hiện thông tin liên hệ.",
        "Figures published by the National Committee; this page shows no contact details.",
    ),
}


def pick(pair: tuple[str, str], lang: Lang) -> str:
    """The Vietnamese or English member of a pair."""
    return pair[0] if lang == "vi" else pair[1]


def text(key: str, lang: Lang) -> str:
    """Interface text by key; the key itself when a word is missing (visible, never a 500)."""
    pair = TEXT.get(key)
    return pick(pair, lang) if pair else key


def assessment(code: str | None, lang: Lang) -> str:
    """The committee's label of a band or status code."""
    if not code:
        return text("not_scored", lang)
    found = ASSESSMENTS.get(code)
    return pick(found[:2], lang) if found else code


def glyph(code: str | None) -> str:
    """The symbol shown beside a band or status colour."""
    found = ASSESSMENTS.get(code or "")
    return found[2] if found else "–"


def named(table: dict[str, tuple[str, str]], code: str | None, lang: Lang) -> str:
    """A code's name from one of the tables above, or the code itself."""
    if not code:
        return ""
    found = table.get(code)
    return pick(found, lang) if found else code


def choose_lang(value: str | None) -> Lang:
    """The page language: English only when asked for, Vietnamese first."""
    return "en" if (value or "").lower().startswith("en") else "vi"
