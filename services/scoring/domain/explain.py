"""Readable explanations of bands and trajectory statuses, in Vietnamese and English."""

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from services.scoring.domain.bands import Band, band_for
from services.scoring.domain.targets import Comparator, Direction, ObservedValue, Target, progress
from services.scoring.domain.trajectory import Trajectory, TrajectoryReason, TrajectoryStatus


class Language(StrEnum):
    """Languages an explanation can be written in."""

    VI = "vi"
    EN = "en"


@dataclass(frozen=True, slots=True)
class Label:
    """One assessment label in both languages."""

    vi: str
    en: str

    def text(self, language: Language) -> str:
        """The label in `language`."""
        return self.vi if language is Language.VI else self.en


# programs.yaml `assessment_labels`: the committee's own words in its reports.
ASSESSMENT_LABELS: Final = MappingProxyType(
    {
        "completed": Label(vi="Hoàn thành", en="completed"),
        "ahead": Label(vi="Có khả năng hoàn thành trước thời hạn", en="likely ahead of deadline"),
        "likely": Label(vi="Có khả năng hoàn thành", en="likely to be met"),
        "low": Label(vi="Có khả năng hoàn thành thấp", en="low likelihood"),
        "hard": Label(vi="Khó hoàn thành", en="unlikely"),
        "unassessable": Label(vi="Khó đánh giá", en="hard to assess"),
        "over_half": Label(vi="Đã thực hiện trên 50%", en="more than half done"),
        "under_half": Label(vi="Đã thực hiện dưới 50%", en="less than half done"),
        # Not one of the committee's labels: ours for a goal or indicator nothing was reported for.
        "no_data": Label(vi="Chưa có số liệu", en="no data"),
    }
)

_SYMBOLS = {
    Comparator.EQ: "",
    Comparator.GT: "> ",
    Comparator.GE: "≥ ",
    Comparator.LT: "< ",
    Comparator.LE: "≤ ",
}

_PHRASES: Final = {
    Language.EN: {
        "of": "{value} of target {target}",
        "against": "{value} against target {target}",
        "none": "no value reported for the period",
        "yes": "yes",
        "no": "no",
        "met": "latest value {latest} meets target {target}",
        "no_data": "no value reported for any period",
        "too_few_observations": "fewer than two observations, so no trend",
        "boolean": "not yet done, and a yes/no value has no trend",
        "deadline_passed": "the {year} deadline has passed at {latest} against target {target}",
        "baseline_at_target": "started at {baseline}, already at target {target}; "
        "projected {projected} by the end of {year}",
        "flat": "unchanged from {baseline}: projected {projected} by the end of {year} "
        "against target {target}, r = {r}",
        "projected": "from {baseline}, projected {projected} by the end of {year} "
        "against target {target}, r = {r}",
        "regressing": ", moving away from the target",
    },
    Language.VI: {
        "of": "{value} trên mục tiêu {target}",
        "against": "{value} so với mục tiêu {target}",
        "none": "không có số liệu của kỳ",
        "yes": "có",
        "no": "chưa",
        "met": "số liệu mới nhất {latest} đạt mục tiêu {target}",
        "no_data": "chưa có số liệu kỳ nào",
        "too_few_observations": "chưa đủ hai kỳ số liệu để thấy xu hướng",
        "boolean": "chưa thực hiện, chỉ tiêu có/không không có xu hướng",
        "deadline_passed": "đã hết thời hạn năm {year}, đạt {latest} so với mục tiêu {target}",
        "baseline_at_target": "xuất phát từ {baseline}, đã ở mức mục tiêu {target}; "
        "dự báo {projected} vào cuối năm {year}",
        "flat": "không thay đổi so với {baseline}: dự báo {projected} vào cuối năm {year} "
        "so với mục tiêu {target}, r = {r}",
        "projected": "từ {baseline}, dự báo {projected} vào cuối năm {year} "
        "so với mục tiêu {target}, r = {r}",
        "regressing": ", đang đi ngược mục tiêu",
    },
}


def label(assessment: Band | TrajectoryStatus, language: Language) -> str:
    """The committee's label for a band or a trajectory status."""
    return ASSESSMENT_LABELS[str(assessment)].text(language)


def format_number(value: float, language: Language) -> str:
    """Up to two decimals, grouped; Vietnamese writes 1.234,5 where English writes 1,234.5."""
    if not math.isfinite(value):
        return str(value)
    # Half-up on the shortest decimal form, as a person would round 0.975 (binary floats say 0.97).
    rounded = Decimal(repr(float(value))).quantize(Decimal("0.01"), ROUND_HALF_UP)
    text = f"{rounded + 0:,.2f}".rstrip("0").rstrip(".")  # + 0 turns -0.00 into 0.00
    if language is Language.VI:
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def _percent(share: float, language: Language) -> str:
    whole = round(share * 100)
    # Near 50% and 100% a rounded figure would contradict the band next to it (50% "over half").
    if whole in (50, 100) and not math.isclose(share * 100, whole):
        return format_number(share * 100, language) + "%"
    return f"{whole}%"


def _target(target: Target, language: Language) -> str:
    return _SYMBOLS[target.op] + format_number(target.value, language)


def explain_band(
    value: ObservedValue | None,
    *,
    target: Target,
    direction: Direction,
    language: Language = Language.EN,
) -> str:
    """E.g. '52.3 of target 100 → 52% → more than half done'."""
    phrases = _PHRASES[language]
    outcome = label(band_for(value, target, direction=direction), language)
    if value is None:
        return f"{phrases['none']} → {outcome}"
    if isinstance(value, bool):
        return f"{phrases['yes' if value else 'no']} → {outcome}"
    template = phrases["of" if direction is Direction.INCREASE else "against"]
    figures = template.format(
        value=format_number(value, language), target=_target(target, language)
    )
    share = _percent(progress(value, target, direction=direction), language)
    return f"{figures} → {share} → {outcome}"


def _maybe_number(value: float | None, language: Language) -> str:
    return "-" if value is None else format_number(value, language)


def explain_trajectory(
    trajectory: Trajectory, *, target: Target, language: Language = Language.EN
) -> str:
    """E.g. 'from 40, projected 87.5 by the end of 2025 against target 100, r = 0.79 → ...'."""
    phrases = _PHRASES[language]
    reason = phrases[str(trajectory.reason)].format(
        latest=_maybe_number(trajectory.latest, language),
        baseline=_maybe_number(trajectory.baseline, language),
        projected=_maybe_number(trajectory.projected, language),
        r=_maybe_number(trajectory.r, language),
        target=_target(target, language),
        year=target.year,
    )
    if trajectory.regressing and trajectory.reason is not TrajectoryReason.MET:
        reason += phrases["regressing"]
    return f"{reason} → {label(trajectory.status, language)}"
