"""The committee's dashboard in headless Chromium, against the embedded platform over real HTTP."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from tests.support.platform import ADMIN_TOKEN, served_platform

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# A contact planted before any page is built: it must never reach a public page.
PRIVATE_EMAIL = "lanh-dao.cds@mic.gov.vn"
PAGES = {
    "overview": "/?program=KH2023&period=2023-S1",
    "indicator": "/indicators/KH2023-01?period=2023-S1",
    "indicator-by-group": "/indicators/KH2023-14a?period=2023-S1",
    "rankings": "/rankings?period=2023-S1",
    "agency": "/agencies/BTTTT?period=2023-S1",
    "laggards": "/laggards?period=2023-S1",
}


def plant_private_contact(base: str) -> None:
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    agency = httpx.get(f"{base}/api/v1/agencies/BTTTT", headers=headers, timeout=30).json()
    body = {k: agency[k] for k in ("name_vi", "name_en", "kind", "groups")}
    body["contacts"] = [{"email": PRIVATE_EMAIL, "name": "Văn phòng Bộ"}]
    answer = httpx.put(f"{base}/api/v1/agencies/BTTTT", json=body, headers=headers, timeout=30)
    assert answer.status_code == 200, answer.text


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The embedded platform (reference catalogue loaded) served by uvicorn on loopback."""
    with served_platform(tmp_path_factory.mktemp("dashboard")) as base:
        plant_private_contact(base)
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless (Playwright's own browser download is not used)."""
    if not CHROMIUM.exists():
        pytest.fail("no /usr/bin/chromium: run scripts/install-browser.sh first")
    playwright: Playwright = sync_playwright().start()
    try:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()
    finally:
        playwright.stop()


@pytest.fixture
def page(base_url: str, browser: Browser) -> Iterator[Page]:
    """A fresh tab that fails the test on any request leaving the platform (no CDN)."""
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="vi-VN")
    tab = context.new_page()
    outside: list[str] = []
    tab.on(
        "request",
        lambda request: None if request.url.startswith(base_url) else outside.append(request.url),
    )
    tab.on("pageerror", lambda error: outside.append(f"script error: {error}"))
    yield tab
    context.close()
    assert outside == [], "the page reached outside the platform or failed"


@pytest.fixture(scope="module")
def screenshots(artifacts: Path) -> Path:
    folder = artifacts / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def visit(page: Page, base_url: str, path: str) -> str:
    """Open a page, insist on 200, and return its visible text."""
    response = page.goto(base_url + path)
    assert response is not None
    assert response.status == 200, path
    assert page.locator("html").get_attribute("lang") in ("vi", "en")
    return page.inner_text("body")


def row_text(page: Page, table: str, first_cell: str) -> str:
    row = page.locator(f"#table-{table} tr", has=page.locator(f"td:text-is('{first_cell}')"))
    return row.first.inner_text()


def test_overview_shows_the_published_figures_against_targets(
    page: Page, base_url: str, screenshots: Path
) -> None:
    body = visit(page, base_url, PAGES["overview"])
    assert "Kế hoạch hoạt động năm 2023 của Ủy ban Quốc gia về chuyển đổi số" in body
    goals = page.locator("#table-goals")
    assert "KH2023-01" in goals.inner_text()
    row = page.locator("#table-goals tr", has=page.locator("a:text-is('KH2023-01')")).first
    assert "52,3%" in row.inner_text()  # 45/86 agencies, SK2023H1
    assert "100%" in row.inner_text()
    assert page.locator("#table-goals .bar .fill").count() >= 30
    by_group = page.locator("#table-goals tr", has=page.locator("a:text-is('KH2023-14a')"))
    assert {"33,1%", "23,56%"} <= set(" ".join(by_group.all_inner_texts()).split())
    bands = page.locator("#table-bands tbody tr td.num")
    if bands.count():  # the scoring service answered: KH2023's 35 goals, each in one band
        assert sum(int(n) for n in bands.all_inner_texts()) == 35
    page.screenshot(path=screenshots / "overview-vi.png", full_page=True)


def test_english_switch_keeps_the_page_and_formats_numbers(
    page: Page, base_url: str, screenshots: Path
) -> None:
    visit(page, base_url, PAGES["overview"])
    page.click("a.lang")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "period=2023-S1" in page.url
    row = page.locator("#table-goals tr", has=page.locator("a:text-is('KH2023-01')")).first
    assert "52.3%" in row.inner_text()
    assert "Goals and indicators" in page.inner_text("main")
    # The reference indicators' English names (services/indicators/reference/indicators.yaml).
    assert "Digital economy value added as a share of GDP" in page.inner_text("#table-goals")
    assert "lang=en" in (page.locator("a:text-is('KH2023-01')").first.get_attribute("href") or "")
    page.screenshot(path=screenshots / "overview-en.png", full_page=True)


@pytest.mark.parametrize(
    ("name", "figures"),
    [("indicator", ["52,3%"]), ("indicator-by-group", ["33,1%", "23,56%"])],
)
def test_indicator_page_draws_the_series_with_its_target(
    page: Page, base_url: str, screenshots: Path, name: str, figures: list[str]
) -> None:
    body = visit(page, base_url, PAGES[name])
    for figure in figures:
        assert figure in page.inner_text("#table-series")
    assert "SK2023H1" in page.inner_text("#table-completeness")
    page.wait_for_selector("#chart canvas")  # the vendored uPlot ran
    assert "Giá trị mục tiêu" in page.inner_text("#chart")  # the target line is in the legend
    assert "Bộ Thông tin và Truyền thông" in page.inner_text("#table-agencies")
    if name == "indicator":
        assert "86" in page.inner_text("#table-completeness")  # dx86: everyone expected
    assert "midpoint" not in body
    page.screenshot(path=screenshots / f"{name}-vi.png", full_page=True)


def test_the_value_axis_fits_a_small_series(page: Page, base_url: str) -> None:
    # KH2023-20: e-commerce 7.5% of retail against a target of 8.5%, not a line at the bottom.
    visit(page, base_url, "/indicators/KH2023-20?period=2023-S1")
    page.wait_for_selector("#chart canvas")
    bottom, top = map(float, (page.get_attribute("#chart", "data-range") or "").split())
    assert bottom == 0
    assert 8.5 < top < 12
    visit(page, base_url, PAGES["indicator"])  # 52.3% against 100%: up to 100, not past it
    page.wait_for_selector("#chart canvas")
    assert page.get_attribute("#chart", "data-range") == "0 100"


def test_rankings_page_keeps_ministries_and_provinces_apart(
    page: Page, base_url: str, screenshots: Path
) -> None:
    visit(page, base_url, PAGES["rankings"])
    headings = page.locator("main h2").all_inner_texts()
    assert "Bộ, ngành" in headings
    assert "Địa phương" in headings
    for group in ("central", "local"):
        section = page.locator(f"section[aria-labelledby='h-ranking-{group}']")
        assert section.locator("table").count() == 1 or "Chưa có dữ liệu" in section.inner_text()
    page.screenshot(path=screenshots / "rankings-vi.png", full_page=True)


def test_agency_page_shows_its_reports_and_nothing_private(
    page: Page, base_url: str, screenshots: Path
) -> None:
    visit(page, base_url, PAGES["agency"])
    assert page.inner_text("h1") == "Bộ Thông tin và Truyền thông"
    reports = page.inner_text("#table-indicators")
    assert "KH2023-01" in reports
    assert "Chưa báo cáo" in reports  # the reference data holds no per-agency reports
    assert "KH2023-01" in page.inner_text("#table-missing")
    html = page.content()
    assert PRIVATE_EMAIL not in html
    assert "@" not in page.inner_text("body")
    page.screenshot(path=screenshots / "agency-vi.png", full_page=True)


def test_laggards_page_answers_even_without_scores(
    page: Page, base_url: str, screenshots: Path
) -> None:
    visit(page, base_url, PAGES["laggards"])
    assert page.inner_text("h1") == "Cơ quan chậm tiến độ"
    assert page.locator("#h-laggards").count() == 1
    page.screenshot(path=screenshots / "laggards-vi.png", full_page=True)


@pytest.mark.parametrize("name", list(PAGES))
def test_every_table_downloads_as_the_csv_it_shows(page: Page, base_url: str, name: str) -> None:
    visit(page, base_url, PAGES[name])
    links = page.locator("a.csv")
    assert links.count() >= 1
    for index in range(links.count()):
        href = links.nth(index).get_attribute("href") or ""
        table_id = href.rsplit("table=", 1)[-1]
        answer = page.request.get(urljoin(page.url, href))
        assert answer.status == 200, href
        assert answer.headers["content-type"].startswith("text/csv")
        assert "attachment" in answer.headers["content-disposition"]
        text = answer.body().decode("utf-8")
        assert text.startswith("\ufeff")
        rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
        shown = page.locator(f"#table-{table_id} tbody tr")
        assert len(rows) - 1 == shown.count(), href
        if shown.count():
            headers = page.locator(f"#table-{table_id} th").all_text_contents()
            assert rows[0] == [h.strip() for h in headers]
    if name == "overview":
        goals = page.request.get(base_url + PAGES[name] + "&format=csv&table=goals").text()
        assert any(r[1] == "KH2023-01" and r[4] == "52.3" for r in csv.reader(io.StringIO(goals)))


def test_pages_print_without_navigation(page: Page, base_url: str, screenshots: Path) -> None:
    visit(page, base_url, PAGES["overview"])
    page.emulate_media(media="print")
    assert not page.locator("header nav").is_visible()
    assert not page.locator("a.csv").first.is_visible()
    assert page.locator("#table-goals").is_visible()
    page.screenshot(path=screenshots / "overview-print.png", full_page=True)


def test_unknown_codes_get_a_page_not_a_500(page: Page, base_url: str) -> None:
    for path in ("/indicators/KH9999-99", "/agencies/NOPE"):
        response = page.goto(base_url + path)
        assert response is not None
        assert response.status == 404
        assert "Không tìm thấy" in page.inner_text("h1")


def test_api_docs_work_offline_on_the_merged_document(
    page: Page, base_url: str, screenshots: Path
) -> None:
    response = page.goto(base_url + "/docs")
    assert response is not None
    assert response.status == 200
    page.wait_for_selector(".opblock-summary-path")  # the vendored Swagger UI rendered
    paths = {
        p.replace("\u200b", "") for p in page.locator(".opblock-summary-path").all_inner_texts()
    }
    merged = httpx.get(base_url + "/api/v1/openapi.json", timeout=30).json()["paths"]
    assert len(merged) > 20
    # Every path of the merged document (not the gateway's own three) is on the page.
    assert paths == set(merged)
    assert {"/api/v1/submissions", "/api/v1/rankings", "/api/v1/keys"} <= paths
    page.screenshot(path=screenshots / "api-docs.png")


def test_indicator_page_draws_the_province_map_offline(
    page: Page, base_url: str, screenshots: Path
) -> None:
    # Đà Nẵng answers yes for 2023-S2 (a period nothing else in this module touches).
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    body = {
        "submission_id": "map-p48",
        "agency": "P48",
        "period": "2023-S2",
        "values": [{"indicator": "KH2023-01", "value": True}],
    }
    sent = httpx.post(f"{base_url}/api/v1/submissions", json=body, headers=headers, timeout=30)
    assert sent.status_code == 202, sent.text
    status_url = f"{base_url}/api/v1/submissions/{sent.json()['id']}"
    deadline = time.monotonic() + 30
    while httpx.get(status_url, headers=headers, timeout=30).json()["status"] != "stored":
        assert time.monotonic() < deadline, "the submission was not stored in 30 s"
        time.sleep(0.1)
    visit(page, base_url, "/indicators/KH2023-01?period=2023-S2")
    tiles = page.locator("#province-map g.tile")
    assert tiles.count() == 63
    assert "t-yes" in (
        page.locator("#province-map g[data-code='P48']").get_attribute("class") or ""
    )
    assert page.locator("#province-map g.t-no_data").count() == 62  # every other province owes it
    assert "Đà Nẵng: Có" in (
        page.locator("#province-map g[data-code='P48'] title").text_content() or ""
    )
    legend = page.locator(".map-legend").inner_text()
    assert "Có" in legend
    assert "Chưa báo cáo" in legend
    assert page.locator("#table-map tbody tr").count() == 63  # the same figures as text and CSV
    page.locator("figure.province-map").screenshot(path=screenshots / "indicator-map-vi.png")
