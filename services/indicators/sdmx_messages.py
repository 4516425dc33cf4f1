"""SDMX data messages written from one description: SDMX-JSON 1.0 and 2.0, SDMX-CSV 1.0 and 2.0,
and SDMX-ML 2.1 generic data. Pure: the API gathers the observations.

The data structure ``VN_DX:DX_INDICATORS(1.0)`` has the dimensions INDICATOR and REF_AREA
(series) and TIME_PERIOD (observation), the measure OBS_VALUE, and two observation attributes
with their code lists, so that every reader, however simple, can tell what a figure is:

- ``FIGURE_METHOD`` (CL_FIGURE_METHOD): ``reported`` (an agency's own value), ``computed`` (the
  national or group figure aggregated from agencies' values, as the API's ``/aggregate``
  gives it) or ``published`` (the committee's published figure, used while no agency reported);
- ``UNIT_MEASURE`` (CL_UNIT_MEASURE): ``PC`` percent, ``NUM`` a count or amount, ``BOOL`` a
  yes/no value written ``1`` (có, yes) or ``0`` (không, no) — never ``true``/``false``, which
  numeric readers cannot take.

Observation attributes rather than series ones: a series mixes reported and computed figures
only by area, but readers (``sdmx1`` among them) attach series attributes unevenly, while every
reader keeps an observation's.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from xml.etree.ElementTree import Element, SubElement, register_namespace, tostring

AGENCY_ID = "VN_DX"
STRUCTURE_ID = "DX_INDICATORS"
VERSION = "1.0"
URN = (
    f"urn:sdmx:org.sdmx.infomodel.datastructure.DataStructure={AGENCY_ID}:{STRUCTURE_ID}({VERSION})"
)
SENDER = "DX_TRACKER"
SCHEMA_2_0 = (
    "https://raw.githubusercontent.com/sdmx-twg/sdmx-json/master/data-message/tools/"
    "schemas/2.0.0/sdmx-json-data-schema.json"
)

#: Each observation attribute and its code list: code -> name.
ATTRIBUTES: dict[str, tuple[str, dict[str, str]]] = {
    "FIGURE_METHOD": (
        "How the figure was obtained",
        {
            "reported": "Reported by the agency",
            "computed": "Computed from agencies' reported values",
            "published": "Published by the National Committee",
        },
    ),
    "UNIT_MEASURE": (
        "Unit of measure",
        {"PC": "Percent", "NUM": "Number", "BOOL": "Yes/no: 1 = yes (có), 0 = no (không)"},
    ),
}
DIMENSIONS = (("INDICATOR", "Indicator"), ("REF_AREA", "Reference area"))

_ML = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/"
_NS = {
    "message": _ML + "message",
    "generic": _ML + "data/generic",
    "common": _ML + "common",
}
for _prefix, _uri in _NS.items():
    register_namespace(_prefix, _uri)  # message:, generic:, common: as SDMX documents write them


@dataclass(frozen=True)
class Obs:
    """One observation: its value (booleans already 1/0) and attribute codes."""

    value: float | int
    method: str
    unit: str

    def codes(self) -> tuple[str, str]:
        """The attribute codes, in the order of ``ATTRIBUTES``."""
        return (self.method, self.unit)


@dataclass(frozen=True)
class DataMessage:
    """Series keyed by (indicator, area), each a mapping of period to observation."""

    id: str
    prepared: datetime
    indicator_names: Mapping[str, str]
    area_names: Mapping[str, str]
    series: Mapping[tuple[str, str], Mapping[str, Obs]]
    period_order: Sequence[str]

    @property
    def indicators(self) -> list[str]:
        return sorted({key[0] for key in self.series})

    @property
    def areas(self) -> list[str]:
        return sorted({key[1] for key in self.series})

    @property
    def periods(self) -> list[str]:
        used = {p for values in self.series.values() for p in values}
        return [p for p in self.period_order if p in used]

    def rows(self) -> list[tuple[str, str, str, Obs]]:
        """Every observation as (indicator, area, period, observation), in key order."""
        order = {p: n for n, p in enumerate(self.period_order)}
        return [
            (indicator, area, period, obs)
            for (indicator, area), values in sorted(self.series.items())
            for period, obs in sorted(values.items(), key=lambda item: order[item[0]])
        ]


def _series_dimensions(message: DataMessage) -> list[dict[str, Any]]:
    names = (message.indicator_names, message.area_names)
    ids = (message.indicators, message.areas)
    return [
        {
            "id": dimension,
            "name": label,
            "keyPosition": position,
            "values": [{"id": code, "name": known.get(code, code)} for code in codes],
        }
        for position, ((dimension, label), known, codes) in enumerate(
            zip(DIMENSIONS, names, ids, strict=True)
        )
    ]


def _attributes() -> list[dict[str, Any]]:
    return [
        {
            "id": attribute,
            "name": label,
            "relationship": {"primaryMeasure": "OBS_VALUE"},
            "values": [{"id": code, "name": name} for code, name in codes.items()],
        }
        for attribute, (label, codes) in ATTRIBUTES.items()
    ]


def _data_set(message: DataMessage) -> dict[str, Any]:
    indicators = {code: n for n, code in enumerate(message.indicators)}
    areas = {code: n for n, code in enumerate(message.areas)}
    periods = {p: n for n, p in enumerate(message.periods)}
    positions = [list(codes) for _, codes in ATTRIBUTES.values()]
    series: dict[str, dict[str, Any]] = {}
    for indicator, area, period, obs in message.rows():
        key = f"{indicators[indicator]}:{areas[area]}"
        entry = series.setdefault(key, {"attributes": [], "observations": {}})
        attribute_indices = [
            codes.index(code) for codes, code in zip(positions, obs.codes(), strict=True)
        ]
        entry["observations"][str(periods[period])] = [obs.value, *attribute_indices]
    return {"action": "Information", "series": series}


def _header(message: DataMessage) -> dict[str, Any]:
    return {
        "id": message.id,
        "test": False,
        "prepared": message.prepared.isoformat(),
        "sender": {"id": SENDER},
    }


def _dimensions(message: DataMessage, *, version: str) -> dict[str, Any]:
    """The dimensions; SDMX-JSON 1.0 and 2.0 differ only in how TIME_PERIOD says what it is."""
    time: dict[str, Any] = {"id": "TIME_PERIOD", "name": "Time period", "keyPosition": 2}
    if version == "1.0":
        time |= {"role": "time", "values": [{"id": p, "name": p} for p in message.periods]}
    else:
        time |= {"roles": ["TIME_PERIOD"], "values": [{"value": p} for p in message.periods]}
    return {"dataSet": [], "series": _series_dimensions(message), "observation": [time]}


def json_1_0(message: DataMessage) -> dict[str, Any]:
    """The SDMX-JSON 1.0 data message (SDMX 2.1), as ``sdmx1`` and most clients read it."""
    return {
        "header": _header(message),
        "structure": {
            "name": "DX Tracker indicators",
            "links": [{"rel": "datastructure", "urn": URN}],
            "dimensions": _dimensions(message, version="1.0"),
            "attributes": {"dataSet": [], "series": [], "observation": _attributes()},
        },
        "dataSets": [_data_set(message)],
    }


def json_2_0(message: DataMessage) -> dict[str, Any]:
    """The SDMX-JSON 2.0 data message (SDMX 3.0)."""
    return {
        "meta": {"schema": SCHEMA_2_0, **_header(message), "contentLanguages": ["vi"]},
        "data": {
            "structures": [
                {
                    "structure": URN,
                    "dimensions": _dimensions(message, version="2.0"),
                    "measures": {"observation": [{"id": "OBS_VALUE", "name": "Observation value"}]},
                    "attributes": {"dataSet": [], "series": [], "observation": _attributes()},
                }
            ],
            "dataSets": [{"structure": 0, **_data_set(message)}],
        },
    }


def sdmx_csv(message: DataMessage, *, version: str) -> str:
    """SDMX-CSV: version ``2.0`` (STRUCTURE, STRUCTURE_ID, ACTION, …) or ``1.0`` (DATAFLOW, …)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    flow = f"{AGENCY_ID}:{STRUCTURE_ID}({VERSION})"
    lead = ["STRUCTURE", "STRUCTURE_ID", "ACTION"] if version == "2.0" else ["DATAFLOW"]
    first = ["dataflow", flow, "I"] if version == "2.0" else [flow]
    dimensions = [dimension for dimension, _ in DIMENSIONS]
    writer.writerow([*lead, *dimensions, "TIME_PERIOD", "OBS_VALUE", *ATTRIBUTES])
    for indicator, area, period, obs in message.rows():
        writer.writerow([*first, indicator, area, period, obs.value, *obs.codes()])
    return buffer.getvalue()


def generic_2_1(message: DataMessage) -> bytes:
    """SDMX-ML 2.1 generic data: readable without the structure (series keys name each value)."""
    message_ns, generic, common = _NS["message"], _NS["generic"], _NS["common"]
    root = Element(f"{{{message_ns}}}GenericData")
    header = SubElement(root, f"{{{message_ns}}}Header")
    SubElement(header, f"{{{message_ns}}}ID").text = message.id
    SubElement(header, f"{{{message_ns}}}Test").text = "false"
    SubElement(header, f"{{{message_ns}}}Prepared").text = message.prepared.isoformat()
    SubElement(header, f"{{{message_ns}}}Sender", id=SENDER)
    structure = SubElement(
        header,
        f"{{{message_ns}}}Structure",
        structureID=STRUCTURE_ID,
        dimensionAtObservation="TIME_PERIOD",
    )
    reference = SubElement(structure, f"{{{common}}}Structure")
    SubElement(reference, "Ref", agencyID=AGENCY_ID, id=STRUCTURE_ID, version=VERSION)
    data_set = SubElement(
        root, f"{{{message_ns}}}DataSet", structureRef=STRUCTURE_ID, action="Information"
    )
    current: tuple[str, str] | None = None
    series: Element | None = None
    for indicator, area, period, obs in message.rows():
        if (indicator, area) != current or series is None:
            current = (indicator, area)
            series = SubElement(data_set, f"{{{generic}}}Series")
            key = SubElement(series, f"{{{generic}}}SeriesKey")
            for (dimension, _), value in zip(DIMENSIONS, current, strict=True):
                SubElement(key, f"{{{generic}}}Value", id=dimension, value=value)
        observation = SubElement(series, f"{{{generic}}}Obs")
        SubElement(observation, f"{{{generic}}}ObsDimension", value=period)
        SubElement(observation, f"{{{generic}}}ObsValue", value=_number(obs.value))
        attributes = SubElement(observation, f"{{{generic}}}Attributes")
        for attribute, code in zip(ATTRIBUTES, obs.codes(), strict=True):
            SubElement(attributes, f"{{{generic}}}Value", id=attribute, value=code)
    document: bytes = tostring(root, encoding="utf-8", xml_declaration=True)
    return document


def _number(value: float | int) -> str:
    return repr(value) if isinstance(value, float) else str(value)
