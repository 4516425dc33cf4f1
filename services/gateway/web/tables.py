"""Tables as the pages show them and as CSV: one structure, so every table downloads as shown."""

from __future__ import annotations

from dataclasses import dataclass, field

from libs.common.csvfile import csv_document


@dataclass(frozen=True)
class Cell:
    """One table cell: its text, and how the page may dress it (link, badge, bar)."""

    text: str
    raw: str | None = None
    href: str | None = None
    badge: str | None = None
    bar: float | None = None
    numeric: bool = False
    title: str | None = None

    def csv_value(self) -> str:
        """The CSV form: machine-readable numbers, else the text (made formula-safe)."""
        return self.raw if self.raw is not None else self.text


@dataclass
class Table:
    """A captioned table with an id that names its CSV download."""

    id: str
    caption: str
    headers: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    empty: str = ""

    def __post_init__(self) -> None:
        # A CSV with two columns of one name is read wrongly by every spreadsheet and dataframe.
        repeated = sorted({h for h in self.headers if self.headers.count(h) > 1})
        if repeated:
            raise ValueError(f"table {self.id}: headers {repeated} appear more than once")

    def add(self, *cells: Cell) -> None:
        """Append a row (as many cells as headers)."""
        if len(cells) != len(self.headers):
            raise ValueError(f"table {self.id}: {len(cells)} cells for {len(self.headers)} columns")
        self.rows.append(list(cells))

    def csv(self) -> str:
        """The table as CSV, with a BOM so that Excel reads Vietnamese text as UTF-8."""
        return csv_document(self.headers, ([c.csv_value() for c in row] for row in self.rows))


def text_cell(value: object, *, href: str | None = None, title: str | None = None) -> Cell:
    """A plain cell ('' for None)."""
    return Cell("" if value is None else str(value), href=href, title=title)


def find_table(tables: list[Table], table_id: str | None) -> Table | None:
    """The table with ``table_id``; the first one when no id is given."""
    if not tables:
        return None
    if not table_id:
        return tables[0]
    return next((t for t in tables if t.id == table_id), None)


def csv_filename(page: str, table: Table, lang: str) -> str:
    """A download name saying what the file holds: ``dx-overview-goals-vi.csv``."""
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in f"{page}-{table.id}")
    return f"dx-{safe}-{lang}.csv"
