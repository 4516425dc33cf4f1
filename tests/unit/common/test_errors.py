"""Errors in the OpenAPI document: every 4xx and 5xx described as the problem+json it is."""

from __future__ import annotations

from typing import Any

from fastapi import Body, FastAPI

from libs.common.errors import (
    PROBLEM_JSON,
    NotFound,
    document_problems,
    install_problem_handlers,
    problem_responses,
)

PROBLEM = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}


def documented() -> dict[str, Any]:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/things/{code}", responses=problem_responses(NotFound))
    async def get_thing(code: str) -> dict[str, str]:
        return {"code": code}

    @app.put("/things/{code}")
    async def put_thing(code: str, body: dict[str, Any] = Body()) -> dict[str, Any]:
        return body

    return app.openapi()


def test_error_responses_are_problem_documents() -> None:
    paths = documented()["paths"]["/things/{code}"]
    assert paths["get"]["responses"]["404"] == {"description": "Not found", "content": PROBLEM}
    assert paths["get"]["responses"]["422"]["content"] == PROBLEM
    assert paths["put"]["responses"]["422"]["content"] == PROBLEM
    assert "application/json" in paths["get"]["responses"]["200"]["content"]


def test_a_body_that_cannot_be_parsed_is_documented_where_there_is_a_body() -> None:
    paths = documented()["paths"]["/things/{code}"]
    assert paths["put"]["responses"]["400"]["content"] == PROBLEM
    assert "400" not in paths["get"]["responses"]


def test_the_problem_schema_replaces_fastapis_own() -> None:
    schemas = documented()["components"]["schemas"]
    assert {"Problem", "ProblemItem"} <= schemas.keys()
    assert not {"HTTPValidationError", "ValidationError"} & schemas.keys()
    assert schemas["Problem"]["properties"]["errors"]["anyOf"][0]["items"] == {
        "$ref": "#/components/schemas/ProblemItem"
    }


def test_documenting_twice_changes_nothing() -> None:
    document = documented()
    assert document_problems(document) == documented()
