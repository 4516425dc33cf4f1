"""Tables as CSV, and the page cache."""

from __future__ import annotations

import csv
import io

import pytest

from services.gateway.web.cache import PageCache
from services.gateway.web.labels import Lang
from services.gateway.web.overview import goals_table
from services.gateway.web.page import Page
from services.gateway.web.tables import Cell, Table, csv_filename, find_table, text_cell


def sample() -> Table:
    table = Table(id="goals", caption="Mục tiêu", headers=["Chỉ tiêu", "Tên", "Kết quả"])
    table.add(text_cell("KH2023-01"), text_cell("Tỷ lệ bộ, ngành"), Cell("52,3%", raw="52.3"))
    table.add(text_cell("X"), text_cell('=HYPERLINK("http://x")'), Cell("-5", raw="-5"))
    return table


def test_csv_has_a_bom_the_headers_and_machine_numbers() -> None:
    text = sample().csv()
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[0] == ["Chỉ tiêu", "Tên", "Kết quả"]
    assert rows[1] == ["KH2023-01", "Tỷ lệ bộ, ngành", "52.3"]


def test_csv_text_cannot_start_a_formula_but_numbers_stay_numbers() -> None:
    rows = list(csv.reader(io.StringIO(sample().csv().removeprefix("\ufeff"))))
    assert rows[2] == ["X", '\'=HYPERLINK("http://x")', "-5"]


def test_a_row_must_fill_every_column() -> None:
    with pytest.raises(ValueError, match="2 cells for 3 columns"):
        sample().add(text_cell("a"), text_cell("b"))


def test_a_table_refuses_two_columns_of_one_name() -> None:
    with pytest.raises(ValueError, match=r"headers \['Mục tiêu'\] appear more than once"):
        Table(id="goals", caption="", headers=["Mục tiêu", "Chỉ tiêu", "Mục tiêu"])


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_goals_csv_names_the_goal_and_the_target_apart(lang: Lang) -> None:
    headers = goals_table(lang).headers
    assert len(set(headers)) == len(headers)
    if lang == "vi":
        assert {"Mục tiêu", "Giá trị mục tiêu"} <= set(headers)


def test_find_table_and_file_names() -> None:
    other = Table(id="bands", caption="", headers=["a"])
    assert find_table([sample(), other], "bands") is other
    assert find_table([sample(), other], None) is not None
    assert find_table([sample()], "nope") is None
    assert find_table([], None) is None
    assert csv_filename("overview", sample(), "vi") == "dx-overview-goals-vi.csv"
    assert csv_filename("x", Table(id='a"b/c', caption="", headers=[]), "en") == "dx-x-a-b-c-en.csv"


def test_cache_keeps_pages_for_their_ttl_and_drops_the_oldest() -> None:
    cache = PageCache(ttl_seconds=30, size=2)
    pages = [Page(name=f"p{n}", lang="vi", title="") for n in range(3)]
    for n, page in enumerate(pages):
        cache.put(n, page, now=0)
    assert cache.get(0, now=1) is None  # evicted: least recently used
    assert cache.get(2, now=29) is pages[2]
    assert cache.get(2, now=31) is None  # expired


def test_cache_off() -> None:
    cache = PageCache(ttl_seconds=0)
    cache.put("k", Page(name="p", lang="vi", title=""), now=0)
    assert cache.get("k", now=0) is None
