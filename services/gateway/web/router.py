"""The dashboard's pages: public, server-rendered, every table also served as CSV."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, Response
from fastapi.templating import Jinja2Templates

from services.gateway.ratelimit import RateLimiter
from services.gateway.web.agency_page import agency_page
from services.gateway.web.cache import PageCache
from services.gateway.web.data import ServiceReader
from services.gateway.web.indicator_page import indicator_page
from services.gateway.web.labels import Lang, assessment, choose_lang, glyph, text
from services.gateway.web.overview import overview_page
from services.gateway.web.page import Page
from services.gateway.web.rankings import laggards_page, rankings_page
from services.gateway.web.tables import csv_filename, find_table

HERE = Path(__file__).parent
STATIC = HERE / "static"
templates = Jinja2Templates(directory=HERE / "templates")

# Scripts only from this origin (the vendored chart library); inline styles carry bar widths.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self' "
    "'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}

LangQuery = Annotated[str | None, Query(max_length=8)]
PeriodQuery = Annotated[str | None, Query(max_length=16)]
CodeQuery = Annotated[str | None, Query(max_length=32)]
FormatQuery = Annotated[str | None, Query(alias="format", pattern="^(html|csv)$")]
TableQuery = Annotated[str | None, Query(max_length=64)]
Build = Callable[[ServiceReader, Lang], Awaitable[Page]]


def page_context(request: Request, page: Page) -> dict[str, object]:
    """What every template may use: the page, words in its language, and link builders."""
    lang = page.lang
    root = request.scope.get("root_path", "")

    def here(**changes: str | None) -> str:
        # Relative to this page, so that it holds behind a proxy's path prefix too.
        query = {k: v for k, v in request.query_params.items() if k not in changes}
        query.update({k: v for k, v in changes.items() if v})
        return f"?{urlencode(query)}"

    def link(href: str) -> str:
        # Links inside the dashboard keep the reader's language and period.
        if not href.startswith("/"):
            return href
        path, _, given = href.partition("?")
        query = dict(parse_qsl(given))
        if lang == "en":
            query.setdefault("lang", "en")
        if page.period:
            query.setdefault("period", page.period)
        return f"{root}{path}" + (f"?{urlencode(query)}" if query else "")

    return {
        "page": page,
        "lang": lang,
        "t": lambda key: text(key, lang),
        "assessment": lambda code: assessment(code, lang),
        "glyph": glyph,
        "here": here,
        "link": link,
        "static": lambda name: f"{root}/static/{name}",
    }


@dataclass(frozen=True)
class View:
    """How a page is asked for: the request, its language, and HTML or one table as CSV."""

    request: Request
    lang: Lang
    format: str | None
    table: str | None


async def view_of(
    request: Request,
    lang: LangQuery = None,
    format: FormatQuery = None,
    table: TableQuery = None,
) -> View:
    """The parameters every page takes."""
    return View(request, choose_lang(lang), format, table)


ViewDep = Annotated[View, Depends(view_of)]


def dashboard_router(*, cache_seconds: float = 30.0) -> APIRouter:
    """The committee's public pages, served by the gateway."""
    router = APIRouter(include_in_schema=False)
    cache = PageCache(ttl_seconds=cache_seconds)

    async def respond(view: View, key: tuple[object, ...], build: Build) -> Response:
        """The page ``key`` names (built by ``build`` unless cached), as HTML or a CSV table."""
        request, lang, key = view.request, view.lang, (*key, view.lang)
        gateway = request.app.state.gateway
        page = cache.get(key)
        if page is None:
            # Only page builds spend the caller's budget: they are what fans out.
            client = request.client.host if request.client else "unknown"
            wait = gateway.limiter.check(f"web:{client}", gateway.settings.rate_limit_per_minute)
            if wait:
                return Response(
                    "Too many requests; retry later",
                    status_code=429,
                    media_type="text/plain; charset=utf-8",
                    headers={"Retry-After": RateLimiter.retry_after_header(wait)},
                )
            reader = ServiceReader(gateway.upstreams)
            page = await build(reader, lang)
            # Pages with an unanswering service are rebuilt on the next request.
            if not reader.unavailable:
                cache.put(key, page)
        if view.format == "csv":
            found = find_table(page.tables, view.table)
            if found is None:
                return Response("No such table", status_code=404, media_type="text/plain")
            filename = csv_filename(page.name, found, lang)
            return Response(
                found.csv(),
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="{filename}"'},
            )
        return templates.TemplateResponse(
            request,
            f"{page.name if page.found else 'not_found'}.html",
            page_context(request, page),
            status_code=page.status_code,
            headers=SECURITY_HEADERS,
        )

    @router.get("/")
    async def overview(
        view: ViewDep, program: CodeQuery = None, period: PeriodQuery = None
    ) -> Response:
        """National overview of a programme: goals against targets, counts per band."""
        return await respond(
            view,
            ("overview", program, period),
            lambda reader, lang: overview_page(
                reader, program=program, period=period, lang=lang, today=date.today()
            ),
        )

    @router.get("/indicators/{code}")
    async def indicator(view: ViewDep, code: str, period: PeriodQuery = None) -> Response:
        """One indicator: series with target and projection, completeness, agencies."""
        return await respond(
            view,
            ("indicator", code, period),
            lambda reader, lang: indicator_page(
                reader, code, period=period, lang=lang, today=date.today()
            ),
        )

    @router.get("/rankings")
    async def rankings(
        view: ViewDep, period: PeriodQuery = None, pillar: CodeQuery = None
    ) -> Response:
        """Ministries and provinces ranked separately, with pillar scores and movement."""
        return await respond(
            view,
            ("rankings", period, pillar),
            lambda reader, lang: rankings_page(
                reader, period=period, pillar=pillar, lang=lang, today=date.today()
            ),
        )

    @router.get("/agencies/{code}")
    async def agency(view: ViewDep, code: str, period: PeriodQuery = None) -> Response:
        """One agency: its indicators, statuses, missing reports and reminders."""
        return await respond(
            view,
            ("agency", code, period),
            lambda reader, lang: agency_page(
                reader, code, period=period, lang=lang, today=date.today()
            ),
        )

    @router.get("/laggards")
    async def laggards(
        view: ViewDep, period: PeriodQuery = None, program: CodeQuery = None
    ) -> Response:
        """Agencies behind on reports or targets, with each reason."""
        return await respond(
            view,
            ("laggards", period, program),
            lambda reader, lang: laggards_page(
                reader, period=period, program=program, lang=lang, today=date.today()
            ),
        )

    @router.get("/docs")
    async def docs(request: Request) -> Response:
        """Swagger UI, vendored (it works offline), on the merged ``/api/v1/openapi.json``."""
        root = request.scope.get("root_path", "")
        return templates.TemplateResponse(
            request,
            "docs.html",
            {
                "static": lambda name: f"{root}/static/{name}",
                "openapi": f"{root}/api/v1/openapi.json",
            },
            headers=SECURITY_HEADERS,
        )

    @router.get("/static/{name:path}")
    async def static(name: str) -> Response:
        """The dashboard's stylesheet, script and vendored chart library."""
        path = (STATIC / name).resolve()
        if not path.is_file() or not path.is_relative_to(STATIC.resolve()):
            return Response("Not found", status_code=404, media_type="text/plain")
        return FileResponse(path, headers={"Cache-Control": "public, max-age=3600"})

    return router
