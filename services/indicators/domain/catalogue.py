"""The catalogue as the reference files state it: agencies, programmes, pillars, indicators."""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Iterable
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, Self, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from libs.common.periods import PeriodKind, ReportingPeriod

AgencyKind = Literal["ministry", "ministerial_agency", "government_agency", "province", "city"]
Direction = Literal["increase", "decrease"]
Aggregation = Literal["share_of_agencies", "by_group", "national", "mean", "ratio_of_sums"]
ValueType = Literal["percent", "number", "boolean_per_agency"]
TargetOp = Literal["=", ">=", ">", "<=", "<"]
AssessmentLabel = Literal[
    "completed", "ahead", "likely", "low", "hard", "unassessable", "over_half", "under_half"
]

# Upper-case codes and lower-case group names keep population rules ('central22+BHXH') unambiguous.
AGENCY_CODE = r"^[A-Z][A-Z0-9]*$"
GROUP_NAME = r"^[a-z][a-z0-9_]*$"
AgencyCode = Annotated[str, Field(pattern=AGENCY_CODE)]
GroupName = Annotated[str, Field(pattern=GROUP_NAME)]
IndicatorCode = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9.\-]*$")]
Text = Annotated[str, Field(min_length=1)]

_OPS: dict[str, tuple[str, ...]] = {"increase": ("=", ">=", ">"), "decrease": ("=", "<=", "<")}


_M = TypeVar("_M", bound=BaseModel)


class CatalogueError(ValueError):
    """The reference data is inconsistent or malformed; the message says where and why."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Contact(_Model):
    """Someone at an agency who receives reminders."""

    email: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
    name: str | None = None
    role: str | None = Field(None, description="`head` marks whom escalations go to")


class Agency(_Model):
    """A central agency or a province, valid from ``valid_from`` to ``valid_to`` (inclusive)."""

    code: AgencyCode
    name_vi: Text
    name_en: Text
    kind: AgencyKind
    groups: tuple[GroupName, ...] = ()
    contacts: tuple[Contact, ...] = ()
    parent: AgencyCode | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    successor: AgencyCode | None = None

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise ValueError(f"agency {self.code}: valid_to {self.valid_to} before valid_from")
        if self.code in (self.successor, self.parent):
            raise ValueError(f"agency {self.code} cannot be its own successor or parent")
        if self.successor and self.valid_to is None:
            raise ValueError(f"agency {self.code} has a successor but no valid_to")
        return self

    def is_valid_on(self, day: date) -> bool:
        """Whether the agency exists on ``day``."""
        starts_ok = self.valid_from is None or self.valid_from <= day
        return starts_ok and (self.valid_to is None or day <= self.valid_to)


class Program(_Model):
    """A national programme (plan or strategy) whose indicators are tracked."""

    code: Text
    name_vi: Text
    name_en: Text
    horizon: int


class Pillar(_Model):
    """One of the six pillars of digital transformation (data, gov, economy, …)."""

    code: GroupName
    name_vi: Text
    name_en: Text


class Target(_Model):
    """A target: in ``year`` the value must compare with ``value`` as ``op`` says."""

    year: Annotated[int, Field(ge=1000, le=9999)]
    op: TargetOp
    value: float


PublishedBasis = Literal["share", "truncated", "unreproduced", "count"]


class PublishedValue(_Model):
    """A national or group figure the committee published, with its source report.

    ``basis`` says what the printed number is when it is not the rounded share of the agencies
    its footnote names: ``truncated`` (17/86 = 19.77 printed 19.7), ``unreproduced`` (no count
    in the report gives it), ``count`` (a number of agencies printed as a percent). The value is
    kept as published; ``note`` shows the share the footnote gives.
    """

    period: ReportingPeriod
    scope: Annotated[str, Field(pattern=r"^(national|central|local|population:.+)$")]
    value: float
    source: Text
    basis: PublishedBasis = "share"
    note: str | None = None


class Reporting(_Model):
    """How often agencies report an indicator and how many days after period end it is due."""

    frequency: PeriodKind = "half"
    due_days: Annotated[int, Field(ge=0)] = 15


class OfficialAssessment(_Model):
    """The standing agency's own assessment of an indicator, as published."""

    as_of: date
    label: AssessmentLabel
    source: str | None = None
    note: str | None = None


class Indicator(_Model):
    """An indicator with its targets, aggregation, population and reporting regime."""

    code: IndicatorCode
    program: Text
    goal: str | None = None
    primary: bool = True
    pillar: Text
    name_vi: Text
    name_en: str | None = None
    unit: Text
    direction: Direction
    owner: Text
    aggregation: Aggregation
    targets: tuple[Target, ...] = ()
    agency_targets: dict[AgencyCode, tuple[Target, ...]] = Field(
        default_factory=dict,
        description="Targets an agency set itself ('tự đặt ra chỉ tiêu'); others use `targets`",
    )
    published: tuple[PublishedValue, ...] = ()
    population: str | None = None
    value_type: ValueType
    reporting: Reporting = Reporting()
    group: str | None = None
    note: str | None = None
    official_assessment: OfficialAssessment | None = None

    @model_validator(mode="before")
    @classmethod
    def _default_value_type(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("value_type") is None:
            return {**data, "value_type": "percent" if data.get("unit") == "percent" else "number"}
        return data

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        problems = self._target_problems(self.targets, "")
        for agency, targets in self.agency_targets.items():
            problems += self._target_problems(targets, f"agency {agency}: ")
        if self.unit != "percent" and self.value_type == "percent":
            problems.append(f"value_type percent needs unit percent, not {self.unit!r}")
        boolean_ok = self.aggregation in ("share_of_agencies", "by_group")
        if self.value_type == "boolean_per_agency" and not boolean_ok:
            problems.append(f"boolean values cannot be aggregated as {self.aggregation}")
        if self.aggregation == "share_of_agencies" and not self.population:
            problems.append("a share_of_agencies indicator needs a population")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _target_problems(self, targets: tuple[Target, ...], whose: str) -> list[str]:
        ops, years = _OPS[self.direction], Counter(t.year for t in targets)
        problems = [f"{whose}more than one target for {y}" for y, n in years.items() if n > 1]
        problems += [
            f"{whose}op {t.op!r} does not fit a {self.direction} indicator (use {' '.join(ops)})"
            for t in targets
            if t.op not in ops
        ]
        if self.unit == "percent":
            problems += [
                f"{whose}{t.value} is not a percent" for t in targets if not 0 <= t.value <= 100
            ]
        return problems

    @property
    def goal_code(self) -> str:
        """The goal this indicator belongs to (an indicator without sub-indicators is its goal)."""
        return self.goal or self.code

    @property
    def owner_codes(self) -> tuple[str, ...]:
        """Agency codes named as owner ('VPCP;BCA' → both); empty when the owner is prose."""
        parts = (part.strip() for part in self.owner.split(";"))
        return tuple(p for p in parts if re.fullmatch(AGENCY_CODE, p))

    def target_for(self, year: int, agency: str | None = None) -> Target | None:
        """The target for ``year``; else the next later one; else the last earlier one.

        An ``agency`` that set its own targets is held to those; any other to the committee's.
        """
        targets = self.agency_targets.get(agency, self.targets) if agency else self.targets
        later = sorted((t for t in targets if t.year >= year), key=lambda t: t.year)
        if later:
            return later[0]
        return max(targets, key=lambda t: t.year, default=None)


class Catalogue(_Model):
    """Everything the reference files say, cross-checked (codes unique, references known)."""

    agencies: tuple[Agency, ...]
    programs: tuple[Program, ...]
    pillars: tuple[Pillar, ...]
    indicators: tuple[Indicator, ...]
    sources: dict[str, str] = Field(default_factory=dict)
    assessment_labels: dict[str, dict[str, str]] = Field(default_factory=dict)
    populations: dict[str, str] = Field(default_factory=dict)  # name -> description
    _agencies: dict[str, Agency] = PrivateAttr(default_factory=dict)
    _indicators: dict[str, Indicator] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _cross_check(self) -> Self:
        problems = [
            *_duplicates("agency", (a.code for a in self.agencies)),
            *_duplicates("program", (p.code for p in self.programs)),
            *_duplicates("pillar", (p.code for p in self.pillars)),
            *_duplicates("indicator", (i.code for i in self.indicators)),
            *self._reference_problems(),
        ]
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _reference_problems(self) -> Iterable[str]:
        agencies = {a.code for a in self.agencies}
        for agency in self.agencies:
            for field, ref in (("parent", agency.parent), ("successor", agency.successor)):
                if ref is not None and ref not in agencies:
                    yield f"agency {agency.code}: unknown {field} {ref!r}"
        known = {
            "program": {p.code for p in self.programs},
            "pillar": {p.code for p in self.pillars},
            "population": set(self.populations),
            "source": set(self.sources),
            "owner agency": agencies,
        }
        primaries: Counter[str] = Counter()
        for ind in self.indicators:
            primaries[ind.goal_code] += ind.primary
            refs = [("program", ind.program), ("pillar", ind.pillar)]
            refs += [("population", ind.population)] if ind.population else []
            refs += [("source", p.source) for p in ind.published]
            refs += [("owner agency", code) for code in ind.owner_codes]
            for what, ref in refs:
                if ref not in known[what]:
                    choices = ", ".join(sorted(known[what])) or "none defined"
                    yield f"indicator {ind.code}: unknown {what} {ref!r} (known: {choices})"
        for goal in sorted({i.goal_code for i in self.indicators}):
            if primaries[goal] != 1:
                yield f"goal {goal} has {primaries[goal]} primary indicators, needs exactly 1"

    def model_post_init(self, context: Any, /) -> None:
        """Index agencies and indicators by code."""
        self._agencies = {a.code: a for a in self.agencies}
        self._indicators = {i.code: i for i in self.indicators}

    def agency(self, code: str) -> Agency:
        """The agency with this code; ``KeyError`` if there is none."""
        if code not in self._agencies:
            raise KeyError(f"unknown agency {code!r}")
        return self._agencies[code]

    def indicator(self, code: str) -> Indicator:
        """The indicator with this code; ``KeyError`` if there is none."""
        if code not in self._indicators:
            raise KeyError(f"unknown indicator {code!r}")
        return self._indicators[code]


def _duplicates(what: str, codes: Iterable[str]) -> list[str]:
    counts = Counter(codes)
    return [f"duplicate {what} code {code!r}" for code, n in counts.items() if n > 1]


def load_reference_catalogue(directory: Path) -> Catalogue:
    """Read agencies.csv, province-mergers-2025.csv, programs.yaml and indicators.yaml."""
    rows = _read_agencies(directory / "agencies.csv")
    _apply_mergers(rows, directory / "province-mergers-2025.csv")
    programs = _read_yaml(directory / "programs.yaml", "programs")
    raw_indicators = _read_yaml(directory / "indicators.yaml", "indicators")["indicators"]
    if not isinstance(raw_indicators, list):
        raise CatalogueError("indicators.yaml: 'indicators' must be a list")
    pillars = programs.get("pillars")
    if not isinstance(pillars, dict) or not all(isinstance(n, dict) for n in pillars.values()):
        raise CatalogueError("programs.yaml: 'pillars' must map codes to {vi, en}")
    parts = {
        "agencies": [_parse(Agency, row, f"agencies.csv {code}") for code, row in rows.items()],
        "programs": [
            _parse(Program, raw, f"programs.yaml program #{n}")
            for n, raw in enumerate(programs["programs"] or [], start=1)
        ],
        "pillars": [
            _parse(Pillar, {"code": c, "name_vi": n.get("vi"), "name_en": n.get("en")}, "pillar")
            for c, n in pillars.items()
        ],
        "indicators": [
            _parse(Indicator, raw, f"indicators.yaml #{n} ({_code_of(raw)})")
            for n, raw in enumerate(raw_indicators, start=1)
        ],
        "sources": programs.get("sources") or {},
        "assessment_labels": programs.get("assessment_labels") or {},
        # YAML reads 'central22+local: 85' as a number; descriptions are text.
        "populations": {k: str(v) for k, v in (programs.get("populations") or {}).items()},
    }
    return _parse(Catalogue, parts, str(directory))


def _read_agencies(path: Path) -> dict[str, dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            code = row.get("code") or f"(line {line})"
            if code in rows:
                raise CatalogueError(f"{path.name} line {line}: duplicate agency code {code!r}")
            rows[code] = {key: value or None for key, value in row.items() if key}
            rows[code]["groups"] = [g.strip() for g in (row.get("groups") or "").split(";") if g]
    return rows


def _apply_mergers(rows: dict[str, dict[str, Any]], path: Path) -> None:
    # An absorbed agency ends the day before the merger; its successor keeps its own code.
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            where, effective = f"{path.name} line {line}", row.get("effective") or ""
            try:
                last_day = date.fromisoformat(effective) - timedelta(days=1)
            except ValueError:
                raise CatalogueError(f"{where}: bad effective date {effective!r}") from None
            successor, absorbed = row.get("successor") or "", row.get("absorbed") or ""
            for code in [successor, *absorbed.split(";")]:
                if code not in rows:
                    raise CatalogueError(f"{where}: unknown agency {code!r}")
            for code in absorbed.split(";"):
                if rows[code].get("successor"):
                    raise CatalogueError(f"{where}: {code} is absorbed twice")
                rows[code].update(valid_to=last_day, successor=successor)


def _read_yaml(path: Path, key: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise CatalogueError(f"{path.name}: not valid YAML: {error}") from error
    if not isinstance(data, dict) or key not in data:
        raise CatalogueError(f"{path.name}: expected a mapping with {key!r} at the top level")
    return data


def _code_of(raw: object) -> str:
    return str(raw.get("code", "no code")) if isinstance(raw, dict) else "not a mapping"


def _parse(model: type[_M], data: object, where: str) -> _M:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        details = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise CatalogueError(f"{where}: {details}") from None
