"""The province tile-grid map: every province placed once, coloured by its value, merged ones."""

from __future__ import annotations

from datetime import date

from services.gateway.web.province_map import GRID, PLACES, province_map

AGENCIES = [
    {"code": "P08", "name_vi": "Tuyên Quang", "name_en": "Tuyen Quang"},
    {"code": "P02", "name_vi": "Hà Giang", "successor": "P08", "valid_to": "2025-06-30"},
    {"code": "P48", "name_vi": "Đà Nẵng", "name_en": "Da Nang"},
]
PERCENT = {"code": "X-1", "unit": "percent"}


def test_the_grid_places_the_63_provinces_once_each() -> None:
    assert len(PLACES) == 63
    assert len({(p.row, p.col) for p in PLACES.values()}) == 63
    assert len({p.label for p in PLACES.values()}) == 63
    assert GRID.name == "vietnam-tile-grid.csv"
    # North above south: Hà Giang's square is above Cà Mau's, Hà Nội's above TP. Hồ Chí Minh's.
    assert PLACES["P02"].row < PLACES["P01"].row < PLACES["P48"].row < PLACES["P79"].row
    assert PLACES["P96"].row == max(p.row for p in PLACES.values())


def test_numeric_values_fall_in_classes_up_to_the_target_and_silence_is_no_data() -> None:
    reported = {"P48": {"value": 95.0}, "P01": {"value": 10.0}, "P79": {"value": 0.0}}
    drawn = province_map(
        PERCENT,
        reported=reported,
        missing={"P31"},
        agencies=AGENCIES,
        period_end=date(2023, 6, 30),
        target={"year": 2023, "op": "=", "value": 100},
        lang="vi",
    )
    assert drawn is not None
    shape, table = drawn
    css = {tile.code: tile.css for tile in shape.tiles}
    assert len(shape.tiles) == 63
    assert (css["P48"], css["P01"], css["P79"]) == ("t-q5", "t-q1", "t-q1")
    assert css["P31"] == "t-no_data"
    assert css["P22"] == "t-none"  # not expected to report this indicator
    assert [entry.label for entry in shape.legend][:2] == ["0 – 20", "20 – 40"]
    assert [row[0].text for row in table.rows] == ["P01", "P31", "P48", "P79"]  # grid order
    assert [row[2].csv_value() for row in table.rows] == ["10", "", "95", "0"]
    assert {row[3].csv_value() for row in table.rows} == {"q1", "no_data", "q5"}


def test_after_the_mergers_an_absorbed_province_shows_its_successor() -> None:
    drawn = province_map(
        {"code": "X-2", "unit": "percent"},
        reported={"P08": {"value": True}},
        missing=set(),
        agencies=AGENCIES,
        period_end=date(2025, 12, 31),
        target=None,
        lang="en",
    )
    assert drawn is not None
    shape, table = drawn
    tiles = {tile.code: tile for tile in shape.tiles}
    assert tiles["P08"].css == "t-yes"
    assert tiles["P02"].css == "t-yes merged"
    assert "Merged into Tuyen Quang" in tiles["P02"].title
    assert [row[0].text for row in table.rows] == ["P08"]  # only the 34 report now
    assert [entry.label for entry in shape.legend][:2] == ["Yes", "No"]


def test_no_map_for_an_indicator_no_province_reports() -> None:
    drawn = province_map(
        PERCENT,
        reported={"BTTTT": {"value": 50.0}},
        missing={"BCA"},
        agencies=AGENCIES,
        period_end=date(2023, 6, 30),
        target=None,
        lang="vi",
    )
    assert drawn is None
