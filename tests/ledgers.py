"""Ledgers laid out the way district offices keep them, written for the tests.

A title row (merged across the columns in the workbook), a ``单位：万元`` line, the header,
then projects grouped by park, each group closed by a 小计 row (some with coordinates) and a
blank row, and a 合计 row at the end. Every layout detail can be varied (units, header words,
total words, prime marks, blank lines, line endings), and :class:`OfficeLedger` records what
each spreadsheet row is, so a test can work out the figures the file must give by hand.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely

from parkmap import read

STATUS_PHRASES = [
    ("前期手续办理中", "planned"),
    ("开工建设", "under_construction"),
    ("已签约", "signed"),
    ("竣工投产", "in_production"),
    ("试生产", "in_production"),
    ("在建", "under_construction"),
]
#: Dates as offices type them, with the day each must give and its precision.
DATES = [
    ("2020-03-12", "2020-03-12", "day"),
    ("2020年6月", "2020-06-01", "month"),
    ("2020.4", "2020-04-01", "month"),
    ("2021年11月5日", "2021-11-05", "day"),
]
HEADERS = {
    "serial": "序号",
    "name": "项目名称",
    "park": "所属园区",
    "status": "项目进展",
    "investment": "计划总投资",
    "date": "签约时间",
    "lon": "经度",
    "lat": "纬度",
}
OTHER_HEADERS = {
    **HEADERS,
    "status": "建设进度",
    "investment": "总投资额",
    "lon": "东经",
    "lat": "北纬",
}
UNIT_FACTOR = {"万元": 1.0, "亿元": 1e-4, "元": 1e4}  # a value in 万元 times this


@dataclass
class Project:
    """One real project of a ledger: what is written, and what parkmap must read."""

    name: str
    park_id: str
    park_name: str
    status_text: str
    status: str
    wan: float
    date_text: str
    date: str
    precision: str
    lon: float
    lat: float
    dms: bool = False
    row: int = 0


@dataclass
class OfficeLedger:
    """The rows of a ledger sheet and what each one is."""

    rows: list[list[object]] = field(default_factory=list)
    projects: list[Project] = field(default_factory=list)
    totals: list[int] = field(default_factory=list)
    blank: list[int] = field(default_factory=list)
    header_row: int = 0

    def per_park(self) -> dict[str, tuple[int, float]]:
        """Projects and investment (亿元) per park, worked out from the projects written."""
        out: dict[str, tuple[int, float]] = {}
        for p in self.projects:
            n, inv = out.get(p.park_id, (0, 0.0))
            out[p.park_id] = (n + 1, inv + p.wan / 1e4)
        return out


def dms_text(value: float, hemisphere: str, style: str = "ascii") -> tuple[str, float]:
    """``value`` written in degrees, minutes and seconds (to 0.01″), and the exact value of
    what is written: d + m/60 + s/3600."""
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round(((value - degrees) * 60 - minutes) * 60, 2)
    if seconds >= 60:  # rounding up to the next minute
        minutes, seconds = minutes + 1, 0.0
    marks = {"ascii": ("°", "'", '"'), "primes": ("°", "′", "″"), "chinese": ("度", "分", "秒")}
    d, m, s = marks[style]
    text = f"{degrees}{d}{minutes}{m}{seconds:.2f}{s}" + (hemisphere if style != "chinese" else "")
    return text, degrees + minutes / 60 + seconds / 3600


def points_inside(geometry: shapely.Geometry, n: int, rng: np.random.Generator) -> list:
    """``n`` random points at least ~100 m inside ``geometry`` (lon/lat degrees)."""
    inner = geometry.buffer(-0.001)
    x0, y0, x1, y1 = inner.bounds
    found: list = []
    while len(found) < n:
        point = shapely.Point(rng.uniform(x0, x1), rng.uniform(y0, y1))
        if inner.contains(point):
            found.append(point)
    return found


def office_ledger(
    *,
    per_park: int = 3,
    unit: str = "万元",
    headers: dict[str, str] = HEADERS,
    total_word: str = "合计",
    dms_style: str = "ascii",
    nameless: bool = True,
    far: bool = True,
    seed: int = 7,
) -> OfficeLedger:
    """A ledger sheet over the bundled parks: ``per_park`` projects in each."""
    rng = np.random.default_rng(seed)
    parks = read.parks_from_file(read.bundled_path("parks.geojson"))
    ledger = OfficeLedger()
    columns = list(headers.values())
    width = len(columns)
    ledger.rows.append(["2021年平度市、莱西市重点项目推进台账"] + [""] * (width - 1))
    ledger.rows.append([f"单位：{unit}"] + [""] * (width - 1))
    ledger.rows.append(columns)
    ledger.header_row = 3
    serial = 0
    grand = 0.0
    for g, park in enumerate(parks.itertuples()):
        points = points_inside(park.geometry, per_park, rng)
        group = 0.0
        for k, point in enumerate(points):
            serial += 1
            phrase, status = STATUS_PHRASES[(serial - 1) % len(STATUS_PHRASES)]
            date_text, date, precision = DATES[(serial - 1) % len(DATES)]
            wan = float(rng.integers(2, 400)) * 1000.0
            lon, lat = round(point.x, 6), round(point.y, 6)
            dms = k == 0
            lon_cell: object = f"{lon:.6f}"
            lat_cell: object = f"{lat:.6f}"
            if dms:
                lon_cell, lon = dms_text(point.x, "E", dms_style)
                lat_cell, lat = dms_text(point.y, "N", dms_style)
            name = f"{park.name[:4]}测试项目{serial:02d}"
            if nameless and g == 1 and k == 0:
                name = ""
            project = Project(
                name, park.park_id, park.name, phrase, status, wan, date_text, date, precision,
                lon, lat, dms, row=len(ledger.rows) + 1,
            )  # fmt: skip
            ledger.projects.append(project)
            amount = wan * UNIT_FACTOR[unit]
            ledger.rows.append(
                [serial, name, park.name, phrase, _number(amount), date_text, lon_cell, lat_cell]
            )
            group += amount
        grand += group
        # a subtotal row, with the park's coordinates on every other group
        centre = park.geometry.representative_point()
        coords = [f"{centre.x:.6f}", f"{centre.y:.6f}"] if g % 2 else ["", ""]
        ledger.rows.append(["", "小计", park.name, "", _number(group), "", *coords])
        ledger.totals.append(len(ledger.rows))
        ledger.rows.append([""] * width)
        ledger.blank.append(len(ledger.rows))
    if far:
        serial += 1
        # geocoded to Changsha, ~1,000 km away: mapped outside every park, with a warning
        ledger.rows.append(
            [serial, "异地误定位测试项目", "", "开工建设", _number(5000 * UNIT_FACTOR[unit]),
             "2020-06-01", "112.938814", "28.228209"]
        )  # fmt: skip
        grand += 5000 * UNIT_FACTOR[unit]
    first = ledger.rows[ledger.header_row :]
    assert all(len(r) == width for r in first)
    ledger.rows.append(["", total_word, "", "", _number(grand), "", "120.100000", "36.600000"])
    ledger.totals.append(len(ledger.rows))
    return ledger


def _number(value: float) -> str:
    return f"{value:.1f}" if value >= 1 else f"{value:.6f}"


def write_csv(
    ledger: OfficeLedger,
    path: Path,
    *,
    encoding: str = "gbk",
    newline: str = "\r\n",
    empty_lines: bool = False,
) -> Path:
    """The sheet as Excel saves "CSV" on Chinese Windows (GBK, CRLF); ``empty_lines`` writes
    blank rows as empty lines instead of rows of empty cells."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=newline)
    for number, row in enumerate(ledger.rows, start=1):
        if empty_lines and number in ledger.blank:
            out.write(newline)
        else:
            writer.writerow(row)
    path.write_bytes(out.getvalue().encode(encoding))
    return path


def write_xlsx(ledger: OfficeLedger, path: Path) -> Path:
    """The sheet as a workbook: title and unit lines merged across the columns, numbers as
    numbers, coordinates as typed text where they are DMS."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "台账"
    width = len(ledger.rows[ledger.header_row - 1])
    for number, row in enumerate(ledger.rows, start=1):
        for col, value in enumerate(row, start=1):
            if value == "":
                continue
            cell_value: object = value
            if number > ledger.header_row and col == 5:
                cell_value = float(str(value))
            sheet.cell(row=number, column=col, value=cell_value)
    for number in (1, 2):
        sheet.merge_cells(start_row=number, start_column=1, end_row=number, end_column=width)
    book.save(path)
    return path
