"""SDMX data messages as the ecosystem's readers read them: ``sdmx1`` and pandas.

``sdmx1`` (the maintained Python SDMX client) reads SDMX-JSON 1.0 and SDMX-ML 2.1 generic data
without a structure; pandas reads SDMX-CSV (1.0 and 2.0) as the plain CSV it is. Each must
give the API's figures: an agency's yes/no as 1/0, and KH2023-01's national figure as
``/aggregate`` gives it, its headline: the published 52.3 while 2 of 86 agencies have reported.
"""

from __future__ import annotations

import io
from typing import Any

import httpx
import pandas as pd
import pytest
import sdmx

from tests.support.flow import submit, wait_stored

pytestmark = pytest.mark.e2e

URL = "/api/v1/sdmx/data/KH2023/KH2023-01+KH2023-11b.VN+VN_LOCAL+P01+P79"
PERIODS = {"startPeriod": "2023", "endPeriod": "2023"}


async def reported(dx: httpx.AsyncClient) -> float:
    """P01 says yes and P79 no to KH2023-01 for 2023-S1; the API's national figure then."""
    for agency, value in (("P01", True), ("P79", False)):
        receipt = await submit(
            dx,
            agency=agency,
            period="2023-S1",
            values=[{"indicator": "KH2023-01", "value": value}],
        )
        await wait_stored(dx, receipt["id"])
    params = {"period": "2023-S1"}
    figure = (await dx.get("/api/v1/indicators/KH2023-01/aggregate", params=params)).json()
    assert figure["method"] == "published"
    assert figure["computed"] == pytest.approx(100 / 86)  # 1 of the 86 agencies said yes
    return float(figure["value"])


async def fetch(dx: httpx.AsyncClient, **request: Any) -> httpx.Response:
    response = await dx.get(URL, **request)
    assert response.status_code == 200, response.text
    return response


def values(frame: pd.DataFrame) -> dict[tuple[str, str, str], tuple[float, str]]:
    """(indicator, area, period) -> (value, method) of a flat frame of observations."""
    return {
        (row.INDICATOR, row.REF_AREA, str(row.TIME_PERIOD)): (
            float(row.OBS_VALUE),
            row.FIGURE_METHOD,
        )
        for row in frame.itertuples()
    }


SCOPES = {"VN": "national", "VN_CENTRAL": "central", "VN_LOCAL": "local"}


async def the_apis(
    dx: httpx.AsyncClient, found: dict[tuple[str, str, str], tuple[float, str]]
) -> dict[tuple[str, str, str], tuple[float, str]]:
    """What the JSON API says of each observation SDMX gave: its figure, or the agency's value."""
    said = {}
    for indicator, area, period in found:
        if area in SCOPES:
            params = {"period": period, "scope": SCOPES[area]}
            url = f"/api/v1/indicators/{indicator}/aggregate"
            figure = (await dx.get(url, params=params)).json()
            said[(indicator, area, period)] = (float(figure["value"]), figure["method"])
        else:
            params = {"indicator": indicator, "agency": area, "period": period}
            [value] = (await dx.get("/api/v1/observations", params=params)).json()
            said[(indicator, area, period)] = (float(value["value"]), "reported")
    return said


async def check(
    dx: httpx.AsyncClient, national: float, found: dict[tuple[str, str, str], tuple[float, str]]
) -> None:
    """The SDMX figures are the API's, and the ones this test knows are there."""
    assert found == await the_apis(dx, found)
    assert {
        ("KH2023-01", "VN", "2023-S1"): (national, "published"),
        ("KH2023-01", "P01", "2023-S1"): (1.0, "reported"),
        ("KH2023-01", "P79", "2023-S1"): (0.0, "reported"),
        ("KH2023-11b", "VN_LOCAL", "2023-S1"): (59.89, "published"),
    }.items() <= found.items()


def sdmx1_frame(message: Any) -> pd.DataFrame:
    """``sdmx1``'s pandas form of a data message, flattened: one row per observation."""
    frame = sdmx.to_pandas(message, attributes="o")
    return frame.rename(columns={"value": "OBS_VALUE"}).reset_index()


async def test_sdmx1_reads_sdmx_json_1_0_into_pandas(dx: httpx.AsyncClient) -> None:
    national = await reported(dx)
    assert national == 52.3  # the headline: too few reports to replace what was published
    response = await fetch(
        dx,
        params=PERIODS,
        headers={"Accept": "application/vnd.sdmx.data+json;version=1.0.0"},
    )
    assert response.headers["content-type"] == "application/vnd.sdmx.data+json;version=1.0.0"
    message = sdmx.read_sdmx(io.BytesIO(response.content), format="JSON")
    await check(dx, national, values(sdmx1_frame(message)))
    plain = sdmx.to_pandas(message)
    assert plain[("KH2023-01", "P01", "2023-S1")] == 1  # yes/no as numbers, not 'True'


async def test_sdmx1_reads_sdmx_ml_2_1_generic_data(dx: httpx.AsyncClient) -> None:
    national = await reported(dx)
    response = await fetch(dx, params={**PERIODS, "format": "genericdata"})
    assert response.headers["content-type"].startswith("application/vnd.sdmx.genericdata+xml")
    message = sdmx.read_sdmx(io.BytesIO(response.content), format="XML")
    await check(dx, national, values(sdmx1_frame(message)))


async def test_sdmx_csv_reads_in_pandas(dx: httpx.AsyncClient) -> None:
    national = await reported(dx)
    response = await fetch(dx, params=PERIODS, headers={"Accept": "text/csv"})
    assert response.headers["content-type"].startswith("application/vnd.sdmx.data+csv")
    frame = pd.read_csv(io.BytesIO(response.content), dtype={"TIME_PERIOD": str})
    assert list(frame.columns[:3]) == ["STRUCTURE", "STRUCTURE_ID", "ACTION"]
    await check(dx, national, values(frame))
    old = await fetch(dx, params={**PERIODS, "format": "csv-1.0"})
    frame = pd.read_csv(io.BytesIO(old.content), dtype={"TIME_PERIOD": str})
    assert frame.columns[0] == "DATAFLOW"
    await check(dx, national, values(frame))


async def test_sdmx_json_2_0_stays_the_default_with_the_same_figures(
    dx: httpx.AsyncClient,
) -> None:
    national = await reported(dx)
    message = (await fetch(dx, params=PERIODS)).json()
    structure = message["data"]["structures"][0]
    ids = [[v["id"] for v in d["values"]] for d in structure["dimensions"]["series"]]
    periods = [v["value"] for v in structure["dimensions"]["observation"][0]["values"]]
    methods = [v["id"] for v in structure["attributes"]["observation"][0]["values"]]
    found = {
        (ids[0][int(i)], ids[1][int(a)], periods[int(p)]): (obs[0], methods[obs[1]])
        for key, s in message["data"]["dataSets"][0]["series"].items()
        for i, a in [key.split(":")]
        for p, obs in s["observations"].items()
    }
    await check(dx, national, found)
    units = structure["attributes"]["observation"][1]["values"]
    assert {"id": "BOOL", "name": "Yes/no: 1 = yes (có), 0 = no (không)"} in units


async def test_formats_nobody_serves_are_refused_naming_the_choices(
    dx: httpx.AsyncClient,
) -> None:
    refused = await dx.get(URL, headers={"Accept": "application/pdf"})
    assert refused.status_code == 406
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["errors"][0]["loc"] == ["header", "accept"]
    unknown = await dx.get(URL, params={"format": "pdf"})
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["loc"] == ["query", "format"]
