"""Hostile input over the whole public API: every operation of its OpenAPI, with three keys.

Schemathesis generates requests for every operation of ``/api/v1/openapi.json``, valid and not,
sends them through the gateway with an admin, an agency and a reader key, and checks each answer:
never a 5xx, only documented statuses, media types and shapes, every 4xx a problem document.
Then the authorisation rules, with any input: no answer without a key but from the operations the
document marks public, no write with a reader key, no write for another agency with an agency key.

Schemathesis runs the platform in its own event-loop thread (its ASGI client starts the app's
lifespan there), so these tests are plain functions. Examples are derandomised: every run sends
the same requests.
"""

from __future__ import annotations

import csv
import io
import re
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import APIOperation, GenerationMode, Response
from schemathesis import Case as GeneratedCase
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.result import Ok
from schemathesis.errors import FailureGroup
from schemathesis.python import asgi

from libs.common.settings import Settings
from services import platform
from tests.support.platform import (
    ADMIN_TOKEN,
    embedded_settings,
    forwarded_to_services,
    postgres_settings,
)

pytestmark = pytest.mark.e2e

Operation = APIOperation[Any, Any, Any, Any]
Case = GeneratedCase[Operation]
Check = Callable[[Case, Response], None]

AGENCY, OTHER = "P01", "P02"  # the agency key's own agency, and one it may not write for
PROBLEM = "application/problem+json"
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
POSITIVE = (GenerationMode.POSITIVE,)
EVERY_MODE = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
#: Requests per operation and key: 3 keys x 29 operations x 25, about 20 s on two cores.
FUZZ_EXAMPLES = 25
#: Requests per operation in the authorisation tests (refused before any work is done).
AUTH_EXAMPLES = 10
#: Served without a key, outside the API document: operations probes and the public dashboard.
PUBLIC_PAGES = ("/healthz", "/readyz", "/metrics", "/")
AGENCY_IN_PATH = re.compile(r"/agencies/\{(\w+)\}")

# Every answer is checked with these. Left out on purpose:
# - negative_data_rejection: the API ignores unknown query parameters and reads a repeated one
#   as its last value, as HTTP APIs commonly do; the check counts that as accepting bad input;
# - positive_data_acceptance: input valid for the schema still names codes that do not exist
#   (404) or breaks business rules (409, 422);
# - ignored_auth: sends the request again without the key; tested on its own below;
# - max_response_time: a timing, which a shared two-core CI machine makes flaky.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@dataclass(frozen=True)
class Api:
    """The running platform, its API document and the headers of each key."""

    schema: schemathesis.BaseSchema
    document: dict[str, Any]
    operations: list[Operation]
    client: asgi.ASGIClient
    keys: dict[str, dict[str, str]]


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def hostile_settings(request: pytest.FixtureRequest, data_dir: Path) -> Settings:
    """The embedded default (SQLite, in-process bus), or the cluster's stores: PostgreSQL and a
    Kafka-protocol broker (where a NUL in text once made 500s)."""
    if request.param == "sqlite":
        return embedded_settings(data_dir, rate_limit_per_minute=0)
    prefix = request.getfixturevalue("schema_prefix")
    return postgres_settings(
        data_dir,
        url=request.getfixturevalue("postgres_url"),
        schema_prefix=f"{prefix}_hostile_",
        rate_limit_per_minute=0,
        bus="kafka",
        kafka_bootstrap=request.getfixturevalue("kafka_bootstrap"),
        kafka_idempotence=False,
        kafka_partitions=1,
    )


def wait_for_catalogue(client: asgi.ASGIClient, admin: dict[str, str]) -> None:
    """Until ingest's replica has the catalogue (over a broker it arrives after start-up)."""
    body = {"submission_id": "hostile-probe", "agency": AGENCY, "period": "2023-S1"}
    body["values"] = [{"indicator": "KH2023-01", "value": True}]  # type: ignore[assignment]
    deadline = time.monotonic() + 60
    while client.post("/api/v1/submissions", json=body, headers=admin).status_code == 503:
        assert time.monotonic() < deadline, "ingest never received the catalogue"
        time.sleep(0.2)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres-kafka", marks=pytest.mark.integration)]
)
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    config = hostile_settings(request, tmp_path_factory.mktemp("hostile"))
    platform.migrate(config)
    app = platform.embedded_app(config)
    try:
        schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)  # starts the app
        results = list(schema.get_all_operations())
        operations = [result.ok() for result in results if isinstance(result, Ok)]
        assert len(operations) == len(results), "the API document has broken operations"
        with asgi.get_client(schema.app) as client:
            admin = bearer(ADMIN_TOKEN)
            wait_for_catalogue(client, admin)
            keys = {"admin": admin}
            for role, agency in (("agency", AGENCY), ("reader", None)):
                body = {"role": role, "agency": agency, "label": f"hostile {role}"}
                issued = client.post("/api/v1/keys", json=body, headers=admin)
                assert issued.status_code == 201, issued.text
                keys[role] = bearer(issued.json()["key"])
            yield Api(
                schema=schema,
                document=schema.raw_schema,
                operations=operations,
                client=client,
                keys=keys,
            )
    finally:
        asgi.shutdown_lifespans()


def attempt(
    operation: Operation,
    headers: dict[str, str] | None,
    check: Check,
    *,
    modes: Sequence[GenerationMode],
    examples: int,
    prepare: Callable[[Case], Case] = lambda case: case,
) -> list[str]:
    """What ``check`` found wrong with the answers to generated requests for ``operation``."""
    failures: list[str] = []
    cases = st.one_of(*(operation.as_strategy(generation_mode=mode) for mode in modes))

    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.filter_too_much,
            HealthCheck.data_too_large,
        ],
    )
    @given(case=cases)
    def send(case: Case) -> None:
        case = prepare(case)
        try:
            response = case.call(headers=headers)
        except Exception as error:  # the app crashed, and the test client raised it
            failures.append(f"{operation.label}: {error!r}\n{case.as_curl_command()}")
            return
        try:
            check(case, response)
        except (AssertionError, FailureGroup) as failure:
            failures.append(f"{operation.label}: {failure}")

    send()
    return failures


def report(failures: Sequence[str]) -> str:
    """The distinct failures, the first ones in full."""
    distinct = list(dict.fromkeys(failures))
    return f"{len(distinct)} failure(s):\n\n" + "\n\n".join(distinct[:20])


def conforms(case: Case, response: Response) -> None:
    """The answer is documented, with the documented shape; a 4xx is a problem document."""
    case.validate_response(response, checks=CHECKS)
    if 400 <= response.status_code < 500:
        assert response.headers.get("content-type") == [PROBLEM], (
            f"{response.status_code} is not a problem document: {response.text[:300]}\n"
            + case.as_curl_command()
        )


def refused(status: int) -> Check:
    """A check that the answer is a problem document with ``status``."""

    def check(case: Case, response: Response) -> None:
        assert response.status_code == status, (
            f"{response.status_code}, not {status}: {response.text[:300]}\n"
            + case.as_curl_command()
        )
        conforms(case, response)

    return check


def answered(case: Case, response: Response) -> None:
    """Anything but a refusal for want of a key, in the documented shape."""
    assert response.status_code not in (401, 403), case.as_curl_command()
    conforms(case, response)


def needs_key(document: dict[str, Any], declared: dict[str, Any]) -> bool:
    """Whether the document asks for a key for an operation (its own rule, or the global one)."""
    requirements: list[dict[str, Any]] = declared.get("security", document.get("security", []))
    return bool(requirements) and {} not in requirements


def without_key(case: Case) -> Case:
    """The case without any Authorization header it was generated with."""
    case.headers.pop("Authorization", None)
    return case


@pytest.mark.parametrize("role", ["admin", "agency", "reader"])
def test_no_input_gets_a_server_error_or_an_undocumented_answer(api: Api, role: str) -> None:
    failures = [
        failure
        for operation in api.operations
        for failure in attempt(
            operation, api.keys[role], conforms, modes=EVERY_MODE, examples=FUZZ_EXAMPLES
        )
    ]
    assert not failures, report(failures)


def test_without_a_key_only_the_public_operations_answer(api: Api) -> None:
    documented = {
        f"{method.upper()} {path}": declared
        for path, item in api.document["paths"].items()
        for method, declared in item.items()
    }
    public = {
        label for label, declared in documented.items() if not needs_key(api.document, declared)
    }
    assert "GET /api/v1/openapi.json" in public  # as the README promises
    assert len(public) < len(documented)
    failures = [
        failure
        for operation in api.operations
        for failure in attempt(
            operation,
            None,
            answered if operation.label in public else refused(401),
            modes=POSITIVE,
            examples=AUTH_EXAMPLES,
            prepare=without_key,
        )
    ]
    assert not failures, report(failures)
    # Schemathesis leaves out the document it was loaded from; and pages outside the document.
    generated = {operation.label for operation in api.operations}
    for label in sorted(public - generated):
        method, path = label.split(" ", 1)
        assert api.client.request(method, path).status_code == 200, label
    for path in PUBLIC_PAGES:
        assert api.client.get(path).status_code == 200, path


def test_a_reader_key_writes_nothing(api: Api) -> None:
    writes = [op for op in api.operations if op.method.upper() in WRITES]
    assert writes
    before = forwarded_to_services()
    failures = [
        failure
        for operation in writes
        for failure in attempt(
            operation, api.keys["reader"], refused(403), modes=POSITIVE, examples=AUTH_EXAMPLES
        )
    ]
    assert not failures, report(failures)
    assert forwarded_to_services() == before  # refused by the gateway: no service saw them


def agency_places(document: dict[str, Any], operation: Operation) -> set[str]:
    """Where a request for ``operation`` names an agency: ``path:<name>``, ``query:agency``,
    ``body:agency`` (the path parameter of an ``/agencies/{…}`` resource, or a field ``agency``)."""
    declared = document["paths"][operation.path][operation.method.lower()]
    places = {f"path:{name}" for name in AGENCY_IN_PATH.findall(operation.path)}
    places |= {
        f"{parameter['in']}:agency"
        for parameter in declared.get("parameters", [])
        if parameter["name"] == "agency"
    }
    body = declared.get("requestBody", {}).get("content", {}).get("application/json", {})
    schema = body.get("schema", {})
    if "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    if "agency" in schema.get("properties", {}):
        places.add("body:agency")
    return places


def naming(agency: str, places: set[str]) -> Callable[[Case], Case]:
    """A rewrite of generated cases so that each of ``places`` names ``agency``."""

    def rewrite(case: Case) -> Case:
        for place in places:
            where, name = place.split(":")
            if where == "path":
                case.path_parameters = {**(case.path_parameters or {}), name: agency}
            elif where == "query":
                case.query = {**(case.query or {}), name: agency}
            elif isinstance(case.body, dict):
                case.body = {**case.body, name: agency}
        return case

    return rewrite


def observations(api: Api, agency: str) -> list[dict[str, Any]]:
    """Every value stored for ``agency``, as the read API shows it."""
    response = api.client.get(
        "/api/v1/observations", params={"agency": agency}, headers=api.keys["admin"]
    )
    assert response.status_code == 200, response.text
    stored: list[dict[str, Any]] = response.json()
    return stored


def submission(agency: str) -> dict[str, Any]:
    """A submission the platform keeps: ``agency`` has its KH2023-01 data catalogue, 2023-S1."""
    return {
        "submission_id": uuid.uuid4().hex,
        "agency": agency,
        "period": "2023-S1",
        "values": [{"indicator": "KH2023-01", "value": True}],
    }


def settle(api: Api) -> None:
    """Submit a value for the agency key's own agency and wait until it is stored.

    The outbox is relayed in order: once this value is stored, so is anything accepted before.
    """
    body = submission(AGENCY)
    deadline = time.monotonic() + 30
    while True:
        response = api.client.post("/api/v1/submissions", json=body, headers=api.keys["agency"])
        if response.status_code != 503 or time.monotonic() > deadline:  # 503: catalogue on its way
            break
        time.sleep(0.1)
    assert response.status_code == 202, response.text
    status_url = f"/api/v1/submissions/{response.json()['id']}"
    while (status := api.client.get(status_url, headers=api.keys["agency"]).json())[
        "status"
    ] != "stored":
        assert status["status"] == "accepted", status
        assert time.monotonic() < deadline, f"not stored after 30 s: {status}"
        time.sleep(0.05)
    assert any(o["indicator"] == "KH2023-01" for o in observations(api, AGENCY))


def sheet(rows: list[list[str]]) -> bytes:
    """A CSV upload with the English headers."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows([["agency", "period", "indicator", "value"], *rows])
    return buffer.getvalue().encode()


def test_an_agency_key_writes_for_no_other_agency(api: Api) -> None:
    headers = api.keys["agency"]
    other = api.client.get(f"/api/v1/agencies/{OTHER}", headers=api.keys["admin"])
    assert other.status_code == 200, other.text
    settle(api)
    before = observations(api, OTHER)
    writes = {
        op.label: (op, places)
        for op in api.operations
        if op.method.upper() in WRITES and (places := agency_places(api.document, op))
    }
    assert "POST /api/v1/submissions" in writes
    failures = [
        failure
        for operation, places in writes.values()
        for failure in attempt(
            operation,
            headers,
            refused(403),
            modes=POSITIVE,
            examples=AUTH_EXAMPLES,
            prepare=naming(OTHER, places),
        )
    ]
    assert not failures, report(failures)
    # What would be kept for the agency itself is refused for the other one.
    single = api.client.post("/api/v1/submissions", json=submission(OTHER), headers=headers)
    assert single.status_code == 403, single.text
    # Where the document cannot say which agency is named: batch items and sheet rows.
    items = [submission(AGENCY), submission(OTHER)]
    for body in ({"items": items}, items):
        batch = api.client.post("/api/v1/submissions/batch", json=body, headers=headers)
        assert batch.status_code == 403, batch.text
    other_name = other.json()["name_vi"]
    for rows in (
        [[AGENCY, "2023-S1", "KH2023-01", "1"], [OTHER, "2023-S1", "KH2023-01", "1"]],
        [[other_name, "2023-S1", "KH2023-01", "có"]],
    ):
        files = {"file": ("bao-cao.csv", sheet(rows), "text/csv")}
        upload = api.client.post("/api/v1/submissions/upload", files=files, headers=headers)
        assert upload.status_code == 403, upload.text
    settle(api)
    assert observations(api, OTHER) == before
