"""Vectorised parsers for the values planners type into project spreadsheets.

Each parser takes a pandas Series of raw cell values (strings, numbers or datetimes, as read from
CSV or Excel) and returns the parsed values plus a boolean mask of cells that were present but
could not be understood, so the caller can turn those into row warnings or rejections. They work
on whole columns at once because a city's register can hold hundreds of thousands of rows.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Final, NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from parkmap.errors import UsageError
from parkmap.json_text import utf8_data
from parkmap.settings import UNIT_TO_100M_CNY

#: Spellings of each currency unit, after NFKC normalisation and lower-casing.
UNIT_ALIASES: Final[dict[str, str]] = {
    "元": "yuan",
    "yuan": "yuan",
    "cny": "yuan",
    "rmb": "yuan",
    "万": "wan",
    "万元": "wan",
    "wan": "wan",
    "10k": "wan",
    "亿": "yi",
    "亿元": "yi",
    "yi": "yi",
    "100m": "yi",
}

_NUMBER_WITH_UNIT = re.compile(
    r"^\s*(?P<num>[+-]?(?:\d[\d,]*)?\.?\d+)\s*(?P<unit>亿元|万元|亿|万|元)?\s*(?:人民币|rmb|cny)?\s*$",
    re.IGNORECASE,
)

#: Status spellings mapped to the canonical statuses of :data:`parkmap.settings.STATUSES`.
STATUS_ALIASES: Final[dict[str, str]] = {
    **dict.fromkeys(
        [
            "前期",
            "前期项目",
            "在谈",
            "在谈项目",
            "洽谈",
            "洽谈中",
            "洽谈项目",
            "储备",
            "储备项目",
            "拟建",
            "拟建项目",
            "谋划",
            "谋划项目",
            "意向",
            "planned",
            "pipeline",
            "intalks",
            "negotiating",
            "prospective",
        ],
        "planned",
    ),
    **dict.fromkeys(
        ["签约", "已签约", "新签约", "签约项目", "签订", "signed", "contracted"], "signed"
    ),
    **dict.fromkeys(
        [
            "在建",
            "在建项目",
            "开工",
            "已开工",
            "新开工",
            "建设中",
            "施工",
            "underconstruction",
            "construction",
            "building",
        ],
        "under_construction",
    ),
    **dict.fromkeys(
        [
            "投产",
            "已投产",
            "竣工",
            "已竣工",
            "竣工投产",
            "建成",
            "运营",
            "达产",
            "inproduction",
            "production",
            "completed",
            "operating",
            "operational",
        ],
        "in_production",
    ),
}

#: Status keywords tried in order when a cell is not an exact alias, so phrases such as
#: ``开工建设`` or ``前期手续办理中`` are read. The first group with a keyword in the cell wins, so
#: the order matters: stop words come first (``停建`` contains ``建``), then production, works,
#: signing and preparation. ``stopped`` is not a canonical status: such projects are counted as
#: ``unknown`` with a warning that says why. A keyword written after 未/尚未/暂未/没有/待 (``已签约
#: 未开工``) does not count.
STATUS_KEYWORDS: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    ("stopped", ("停建", "停工", "暂停", "终止", "中止", "缓建")),
    ("in_production", ("投产", "竣工", "试生产", "达产", "运营", "建成")),
    ("under_construction", ("开工", "在建", "施工", "建设中", "续建", "新建")),
    ("signed", ("签约", "签订", "落地")),
    ("planned", ("前期", "储备", "洽谈", "在谈", "谋划", "拟建", "意向", "手续", "论证")),
)

#: What :data:`STATUS_KEYWORDS` calls a stopped, suspended or cancelled project.
STOPPED: Final = "stopped"

_NEGATED_KEYWORD: Final = "(?:尚未|暂未|没有|未|待)(?:{})".format(
    "|".join(word for _, words in STATUS_KEYWORDS for word in words)
)

#: Dtype of parsed text: pandas' Arrow-backed strings.
TEXT: Final = pd.StringDtype("pyarrow", na_value=np.nan)

#: Excel's day zero for the 1900 date system (serial 1 = 1900-01-01, with Excel's leap-year bug).
_EXCEL_EPOCH: Final = pd.Timestamp("1899-12-30")
#: Serial numbers accepted as dates: 1954-10-05 .. 2119-06-24, so years typed as numbers are not.
_EXCEL_SERIAL_RANGE: Final = (20000, 80000)
#: Dates kept: anything earlier or later is a typing slip (``9999-12-31``, ``2300.1.1``).
DATE_RANGE: Final = (pd.Timestamp("1900-01-01"), pd.Timestamp("2100-12-31 23:59:59.999999"))
#: How much of a date a cell gave: the day, only a month (``2020年6月``) or only a year.
DATE_PRECISIONS: Final = ("", "year", "month", "day")


def canonical_unit(name: str) -> str:
    """Return ``"yuan"``, ``"wan"`` or ``"yi"`` for a unit spelling such as ``万元`` or ``wan``.

    Raises
    ------
    UsageError
        If the spelling is not a known currency unit.
    """
    key = str(name).strip().lower().replace(" ", "")
    if key in UNIT_ALIASES:
        return UNIT_ALIASES[key]
    choices = "元 (yuan), 万元 (wan), 亿元 (yi)"
    raise UsageError(f"unknown investment unit {name!r}; use one of {choices}")


def as_text(values: pd.Series) -> pd.Series:
    """Cells as stripped, NFKC-normalised strings; empty string for blanks and NaN.

    NFKC turns full-width digits, commas and brackets (``１２，５００``) into ASCII ones.
    """
    arrow_text = pd.api.types.is_string_dtype(values) and not pd.api.types.is_object_dtype(values)
    # A workbook column of text cells (and blanks) needs no per-cell conversion either.
    kind = "" if arrow_text else pd.api.types.infer_dtype(values, skipna=True)
    all_str = kind in ("string", "empty")
    if not arrow_text and not all_str:
        values = values.astype(object).where(values.notna(), "").map(_cell_to_text)
    # Arrow-backed strings: the string operations below run in C++, not per cell in Python.
    out = values.astype(TEXT).fillna("")
    # NFKC only where needed: most cells are plain ASCII or CJK already.
    if _has_full_width(out):
        needs = out.str.contains("[\uff00-\uffef\u3000]", regex=True)
        out = out.where(~needs, out[needs].str.normalize("NFKC"))
    return out.str.strip()


def _has_full_width(text: pd.Series) -> bool:
    """Whether any cell may hold a full-width form (U+FF00–U+FFEF).

    Every such character starts with the byte 0xEF in UTF-8, which common CJK characters
    never use, so one ``memchr`` over the column's data answers for a clean column far
    faster than a per-cell regex. (The ideographic space U+3000 is left to ``strip``.)
    """
    return any(b"\xef" in bytes(data) for data in utf8_data(pa.array(text, from_pandas=True)))


def cell_text(value: object) -> str:
    """One cell as the stripped, NFKC-normalised text :func:`as_text` gives (for messages)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return unicodedata.normalize("NFKC", _cell_to_text(value)).strip()


#: Characters that would break a one-line message: controls, line and paragraph separators.
_CONTROL_RUN: Final = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def quoted(value: object, *, limit: int = 60) -> str:
    """One cell's text for a message: in typographic quotes, on one line, without escapes.

    ``120°0'48"X`` reads ``“120°0'48"X”`` rather than Python's ``'120°0\\'48"X'``; line breaks
    and other control characters become spaces, and text longer than ``limit`` is cut with ``…``.
    """
    text = _CONTROL_RUN.sub(" ", cell_text(value)).strip()
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return f"“{text}”"


def _cell_to_text(value: object) -> str:
    # Integral floats from Excel (12500.0) print without a trailing .0 so ids stay as typed.
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date().isoformat()  # an Excel date cell, as the sheet shows it
    return str(value)


#: Plain decimal numbers, which Arrow casts exactly as Python's float() would.
_PLAIN_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"


def _to_float(text: pd.Series) -> pd.Series:
    """Numbers from stripped text; NaN where empty or not a number.

    Plain decimals are cast by Arrow in C++; anything else that is not empty (``inf``, a
    stray letter) goes through :func:`pandas.to_numeric`, which decides as before.
    """
    cells = pa.array(text, type=pa.string(), from_pandas=True)
    plain = pc.fill_null(pc.match_substring_regex(cells, _PLAIN_NUMBER), False)
    numbers = pc.cast(pc.if_else(plain, cells, pa.scalar(None, pa.string())), pa.float64())
    out = pd.Series(numbers.to_numpy(zero_copy_only=False), index=text.index, dtype=float)
    others = np.flatnonzero(~plain.to_numpy(zero_copy_only=False))  # mostly none, or blanks
    if not others.size:
        return out
    # Only ASCII letters, digits and signs can still spell a number ("inf", "1E+3 ").
    maybe = pc.match_substring_regex(cells.take(others), r"^[0-9A-Za-z.+\-_ ]+$")
    rest = others[pc.fill_null(maybe, False).to_numpy(zero_copy_only=False)]
    if rest.size:
        out.iloc[rest] = pd.to_numeric(text.iloc[rest], errors="coerce").astype(float)
    return out


#: Degree, minute and second marks as ledgers type them: ``° ' "``, primes ``′ ″``, curly
#: quotes, ``''`` for seconds, and ``度 分 秒``.
_DEGREE_MARK = "(?:°|度|º|˚)"
_MINUTE_MARK = "(?:'|′|’|‘|分)"
_SECOND_MARK = "(?:\"|″|”|“|''|′′|’’|秒)"

#: Degrees with optional minutes and seconds (RE2, run by Arrow): ``120°9'57.87"E``,
#: ``120°9.9645'E``, ``36.7°``, ``N36°32'45.43"``, ``120度9分57.87秒``. Minutes need a degree
#: mark before them, so ``1209'`` is not read as 120°9'; the marks are matched as typed rather
#: than rewritten first, so the cells are scanned once.
_DEGREES = (
    r"^(?P<h1>[NSEWnsew]?)\s*(?P<sign>[+-]?)(?P<deg>\d+(?:\.\d+)?)\s*(?:"
    + _DEGREE_MARK
    + r"\s*(?:(?P<min>\d+(?:\.\d+)?)\s*"
    + _MINUTE_MARK
    + r"\s*(?:(?P<sec>\d+(?:\.\d+)?)\s*(?:"
    + _SECOND_MARK
    + r")?\s*)?)?)?(?P<h2>[NSEWnsew]?)$"
)


def parse_coordinate(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse longitudes or latitudes: decimals, or degrees–minutes(–seconds).

    Decimal degrees (``120.166075``, ``36.7°``) take Arrow's fast path; only the other cells go
    through a pattern: ``120°9'57.87"E``, ``120°9′57.87″E``, ``120度9分57.87秒``,
    ``36°32'45.43"N``, ``120°9.9645'E``. The value is ``d + m/60 + s/3600``; ``W`` and ``S``
    (or a leading ``-``) make it negative. Minutes and seconds of 60 or more, a decimal part
    before a further unit (``9.5'30"``), two hemispheres or a sign with a hemisphere make the
    cell unreadable.

    Parameters
    ----------
    values
        Raw cells of one coordinate column.

    Returns
    -------
    numbers
        Float degrees, NaN where empty or unreadable.
    bad
        True where a cell has text that is not a coordinate.
    """
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.astype(float), pd.Series(False, index=values.index)  # Parquet, Excel
    text = as_text(values)
    numbers = _to_float(text)
    rest = (text != "") & numbers.isna()
    if rest.any():
        numbers[rest] = _degrees(text[rest])
    bad = (text != "") & numbers.isna()
    return numbers, bad


def _degrees(text: pd.Series) -> np.ndarray:
    """Degrees from ``d°m's"`` text, vectorised with Arrow; NaN where the text is not one."""
    cells = pa.array(text, type=pa.string(), from_pandas=True)
    parts = pc.extract_regex(cells, _DEGREES)
    fields = {name: pc.fill_null(pc.struct_field(parts, name), "") for name in parts.type.names}
    null = pa.scalar(None, pa.string())

    def given(name: str) -> np.ndarray:
        return np.asarray(pc.not_equal(fields[name], ""), dtype=bool)

    def number(name: str) -> np.ndarray:
        # The groups hold only digits and a point: Arrow casts them exactly, "" → null → NaN.
        part = pc.if_else(pc.equal(fields[name], ""), null, fields[name])
        return np.asarray(pc.cast(part, pa.float64()).to_numpy(zero_copy_only=False), dtype=float)

    def has_point(name: str) -> np.ndarray:
        return np.asarray(pc.match_substring(fields[name], "."), dtype=bool)

    def one_of(name: str, letters: str) -> np.ndarray:
        return np.asarray(pc.is_in(fields[name], pa.array(list(letters))), dtype=bool)

    d, m, s = number("deg"), number("min"), number("sec")
    has_min, has_sec = given("min"), given("sec")
    h1, h2 = given("h1"), given("h2")
    ok = (
        ~np.isnan(d)
        & ~(has_min & has_point("deg"))  # 120.5°30' is no angle
        & ~(has_sec & has_point("min"))
        & ~(has_min & ~(m < 60))
        & ~(has_sec & ~(s < 60))
        & ~(h1 & h2)
        & ~(given("sign") & (h1 | h2))
    )
    # Whole degrees plus the (small) fraction: one rounding in the sum, so the value is the
    # float nearest d + m/60 + s/3600 for all but a few cells in a thousand.
    value = d + (np.where(has_min, m, 0.0) * 60 + np.where(has_sec, s, 0.0)) / 3600
    minus = np.asarray(pc.equal(fields["sign"], "-"), dtype=bool)
    negative = minus | one_of("h1", "WSws") | one_of("h2", "WSws")
    value = np.where(negative, -value, value)
    return np.where(ok, value, np.nan)


def parse_investment(values: pd.Series, *, header_unit: str) -> tuple[pd.Series, pd.Series]:
    """Parse investment amounts into 亿元 (100 million CNY).

    A unit written in the cell (``150亿元``, ``5,000万元``) wins over the column's unit.

    Parameters
    ----------
    values
        Raw cells.
    header_unit
        ``"yuan"``, ``"wan"`` or ``"yi"``: the unit declared by the column header or option.

    Returns
    -------
    amounts
        Float amounts in 亿元, NaN where empty or unreadable.
    bad
        True where a cell has text that is not an amount (``待定``, ``TBD``).
    """
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        amounts = values.astype(float) * UNIT_TO_100M_CNY[header_unit]
        return amounts, pd.Series(False, index=values.index)
    text = as_text(values).str.replace(",", "", regex=False).str.replace(" ", "", regex=False)
    # Most cells are plain numbers in the column's unit; only the rest need the pattern.
    amounts = _to_float(text) * UNIT_TO_100M_CNY[header_unit]
    rest = (text != "") & amounts.isna()
    if rest.any():
        cells = pa.array(text[rest], type=pa.string(), from_pandas=True)
        # RE2 via Arrow: the same pattern as _NUMBER_WITH_UNIT, run in C++ for every cell
        parts = pc.extract_regex(cells, "(?i)" + _NUMBER_WITH_UNIT.pattern)
        numbers = _to_float(pd.Series(pc.struct_field(parts, "num"), dtype=TEXT).fillna(""))
        unit_cells = pd.Series(pc.struct_field(parts, "unit"), dtype=TEXT).fillna("")
        factors = {
            u: UNIT_TO_100M_CNY[UNIT_ALIASES.get(u, header_unit)] for u in unit_cells.unique()
        }
        scale = unit_cells.map(factors).to_numpy(dtype=float)
        amounts[rest] = numbers.to_numpy() * scale
    amounts = amounts.where(np.isfinite(amounts))  # "inf" is no amount
    bad = (text != "") & amounts.isna()
    return amounts, bad


def parse_status(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Normalise project statuses to the canonical ones of :data:`parkmap.settings.STATUSES`.

    A cell is first looked up in :data:`STATUS_ALIASES` (case, spaces, ``_`` and ``-`` ignored),
    then searched for the keywords of :data:`STATUS_KEYWORDS`, so phrases such as ``开工建设``
    or ``前期手续办理中`` are read. Stopped projects (``停建``, ``暂停``) are ``unknown`` and bad;
    :func:`stopped_statuses` tells them from unrecognised text.

    Returns
    -------
    statuses
        Canonical statuses; ``"unknown"`` where empty, stopped or unrecognised.
    bad
        True where a cell has a status that is not recognised or names a stopped project.
    """
    codes, readings = _status_readings(as_text(values))
    # Decide per distinct text, then spread out with the codes (no per-row object compares).
    filled = np.asarray(readings.index != "", dtype=bool)
    bad_u = filled & (readings.isna() | (readings == STOPPED)).to_numpy(dtype=bool)
    status_u = readings.where(~bad_u & readings.notna(), "unknown").to_numpy(dtype=object)
    statuses = pd.Series(status_u[codes], index=values.index, dtype=object)
    return statuses, pd.Series(bad_u[codes], index=values.index)


def stopped_statuses(values: pd.Series) -> pd.Series:
    """True where a status cell names a stopped, suspended or cancelled project (``停建``)."""
    codes, readings = _status_readings(as_text(values))
    stopped = (readings == STOPPED).to_numpy(dtype=bool)
    return pd.Series(stopped[codes], index=values.index)


def _status_readings(text: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """Each distinct text read once: canonical status, :data:`STOPPED` or NaN.

    Returns
    -------
    codes
        Position of each cell's text in ``readings``.
    readings
        One reading per distinct text, indexed by that text.
    """
    # A column holds a handful of distinct statuses: read those, then spread them out.
    codes, uniques = pd.factorize(text)
    distinct = pd.Series(uniques, dtype=TEXT)
    keys = distinct.str.lower().str.replace(r"[\s_\-]", "", regex=True)
    readings = keys.map(STATUS_ALIASES).astype(object)
    unread = readings.isna() & (keys != "")
    if unread.any():
        # Arrow's RE2 over the distinct texts: one pass per keyword group, in order.
        phrases = keys[unread].str.replace(_NEGATED_KEYWORD, "", regex=True)
        found = np.full(len(phrases), None, dtype=object)
        for status, words in STATUS_KEYWORDS:
            hit = phrases.str.contains("|".join(words), regex=True).to_numpy(dtype=bool)
            found[hit & pd.isna(found)] = status
        readings[unread] = found
    readings.index = pd.Index(distinct.to_numpy(dtype=object), dtype=object)
    return codes, readings


def _iso_dates(text: pd.Series) -> pd.Series:
    """Dates written exactly ``YYYY-MM-DD`` (years 1900–2100), parsed in C++; NaT elsewhere.

    Arrow's strptime rolls impossible dates over (``2020-02-30`` → March 1st), so a date is kept
    only when its day of the month is the one typed.
    """
    cells = pa.array(text, type=pa.string(), from_pandas=True)
    shaped = pc.match_substring_regex(cells, r"^(19\d\d|20\d\d|2100)-\d\d-\d\d$")
    if not pc.any(shaped).as_py():
        return pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    parsed = pc.strptime(cells, format="%Y-%m-%d", unit="s", error_is_null=True)
    day_text = pc.if_else(shaped, pc.utf8_slice_codeunits(cells, 8, 10), "0")
    typed_day = pc.cast(pc.fill_null(day_text, "0"), pa.int64())
    exact = pc.and_kleene(shaped, pc.equal(pc.day(parsed), typed_day))
    kept = pc.if_else(exact, parsed, pa.scalar(None, parsed.type))
    return pd.Series(kept.to_numpy(zero_copy_only=False), index=text.index).astype("datetime64[ns]")


#: ``Y``, ``Y-M`` or ``Y-M-D`` with an optional ``H:MM[:SS]`` (after 年月日 . / became ``-``).
_DATE_PARTS = (
    r"^(?P<year>\d{4})(?:-(?P<month>\d{1,2})(?:-(?P<day>\d{1,2})"
    r"(?: (?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?)?)?)?$"
)


def _dates_from_parts(cleaned: pd.Series) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Dates from ``Y[-M[-D[ H:MM[:SS]]]]`` text, checked in bulk.

    Returns
    -------
    dates
        ``datetime64[ns]``: the first day of the month or year when only those were given; NaT
        for other text, days that do not exist and years outside 1900–2100.
    precision
        Index into :data:`DATE_PRECISIONS` (0 where no date was read).
    out_of_range
        True where the text is a date shape but its year is outside 1900–2100.
    """
    cells = pa.array(cleaned, type=pa.string(), from_pandas=True)
    parts = pc.extract_regex(cells, _DATE_PARTS)
    given = {}
    fields = {}
    for name in ("year", "month", "day", "hour", "minute", "second"):
        text = pc.fill_null(pc.struct_field(parts, name), "")
        given[name] = pc.not_equal(text, "").to_numpy(zero_copy_only=False)
        default = "0" if name in ("hour", "minute", "second") else "1"
        text = pc.if_else(pc.equal(text, ""), default, text)  # groups that took no part
        fields[name] = pc.cast(text, pa.int64()).to_numpy(zero_copy_only=False)
    matched = given["year"]
    year = fields["year"]
    lo, hi = DATE_RANGE
    in_range = matched & (year >= lo.year) & (year <= hi.year)
    out = pd.Series(pd.NaT, index=cleaned.index, dtype="datetime64[ns]")
    if in_range.any():
        frame = pd.DataFrame(fields, index=cleaned.index)[in_range]
        # to_datetime checks each day exists (2023-02-29 → NaT) for the whole column at once.
        out[in_range] = pd.to_datetime(frame, errors="coerce")
    precision = np.where(given["day"], 3, np.where(given["month"], 2, 1)).astype(np.int8)
    precision[out.isna().to_numpy()] = 0
    return out, precision, matched & ~in_range


class DateCells(NamedTuple):
    """Dates read from a column of cells (:func:`parse_date_cells`).

    Attributes
    ----------
    dates
        ``datetime64[ns]``; NaT where empty, unreadable or out of range. A month-only or
        year-only date is the first day of that month or year.
    precision
        ``"day"``, ``"month"``, ``"year"``, or ``""`` where no date was read.
    bad
        True where a cell has text that is not a date.
    out_of_range
        True where a cell holds a date outside 1900–2100 (left empty).
    """

    dates: pd.Series
    precision: pd.Series
    bad: pd.Series
    out_of_range: pd.Series


def parse_date(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse dates as spreadsheets hold them (see :func:`parse_date_cells`).

    Returns
    -------
    dates
        ``datetime64[ns]`` values, NaT where empty, unreadable or outside 1900–2100.
    bad
        True where a cell has text that is not a date, or a date outside 1900–2100.
    """
    cells = parse_date_cells(values)
    return cells.dates, cells.bad | cells.out_of_range


def parse_date_cells(values: pd.Series) -> DateCells:
    """Parse dates as spreadsheets hold them, saying how precise each one is.

    Accepts ``2020-06-30``, ``2020/6/30``, ``2020.6.30``, ``2020年6月30日``, Excel serial numbers
    (``44012``) and datetimes that Excel readers already produced (precision ``"day"``);
    months typed as ``2020年6月``, ``2020.6``, ``2020-06``, ``2020/6`` (``"month"``); and years
    typed as ``2020年`` or ``2020`` (``"year"``). Dates outside 1900–2100 (``9999-12-31``) are
    left empty and flagged ``out_of_range``. Everything runs on whole columns.
    """
    index = values.index
    precision = np.zeros(len(values), dtype=np.int8)
    lo, hi = DATE_RANGE
    if pd.api.types.is_datetime64_any_dtype(values):
        stamps = values.dt.tz_localize(None) if values.dt.tz is not None else values
        outside = stamps.notna() & ~stamps.between(lo, hi)
        dates = stamps.where(~outside).astype("datetime64[ns]")
        precision[dates.notna().to_numpy()] = 3
        no = pd.Series(False, index=index)
        return DateCells(dates, _precision_names(precision, index), no, outside)

    text = as_text(values)
    filled = (text != "").to_numpy(dtype=bool)
    if not filled.any():  # a blank (or absent) column: no date, nothing to parse
        no = pd.Series(False, index=index)
        return DateCells(
            pd.Series(pd.NaT, index=index, dtype="datetime64[ns]"),
            _precision_names(precision, index),
            no,
            no.copy(),
        )
    # Plain arrays inside: masked assignment into a Series aligns indexes, a cost per step.
    dates = np.full(len(values), np.datetime64("NaT"), dtype="datetime64[ns]")
    out_of_range = np.zeros(len(values), dtype=bool)

    if pd.api.types.is_string_dtype(values) and not pd.api.types.is_object_dtype(values):
        is_stamp = np.zeros(len(values), dtype=bool)  # text cells (CSV): no datetimes
    else:
        raw = values.astype(object)
        # The type of each cell (a C call per cell, no Python frame), then a few distinct types.
        types = raw.map(type)
        kinds = [
            k for k in pd.unique(types) if issubclass(k, pd.Timestamp | np.datetime64 | dt.date)
        ]
        is_stamp = types.isin(kinds).to_numpy(dtype=bool)
        if is_stamp.any():
            stamps = pd.to_datetime(raw[is_stamp], errors="coerce")
            if isinstance(stamps.dtype, pd.DatetimeTZDtype):
                stamps = stamps.dt.tz_localize(None)
            # pandas gives datetimes beyond the nanosecond range (year 9999) microseconds.
            outside = (stamps.isna() & filled[is_stamp]) | (
                stamps.notna() & ~stamps.between(lo, hi)
            )
            out_of_range[is_stamp] = outside.to_numpy()
            dates[is_stamp] = stamps.where(~outside).to_numpy(dtype="datetime64[ns]")

    iso = _iso_dates(text.where(~is_stamp, "") if is_stamp.any() else text).to_numpy()
    is_iso = ~np.isnat(iso)
    dates[is_iso] = iso[is_iso]

    todo = ~is_stamp & ~is_iso & filled
    rest = todo
    if todo.any():
        serial = _to_float(text.where(todo, "")).to_numpy()
        serial_lo, serial_hi = _EXCEL_SERIAL_RANGE
        is_serial = todo & (serial >= serial_lo) & (serial <= serial_hi)
        if is_serial.any():
            days = _EXCEL_EPOCH + pd.to_timedelta(np.round(serial[is_serial]), unit="D")
            late = np.asarray(days > hi)  # serials run to 2119
            out_of_range[is_serial] = late
            dates[is_serial] = days.where(~late).to_numpy(dtype="datetime64[ns]")
        rest = todo & ~is_serial
    if rest.any():
        cleaned = (
            text[rest]
            .str.replace(r"[年月./]", "-", regex=True)
            .str.replace("日", "", regex=False)
            .str.strip("-")
        )
        parsed, part_precision, part_outside = _dates_from_parts(cleaned)
        dates[rest] = parsed.to_numpy(dtype="datetime64[ns]")
        precision[rest] = part_precision
        out_of_range[rest] = part_outside
    read = ~np.isnat(dates)
    precision[read & ~rest] = 3
    bad = filled & ~read & ~out_of_range
    return DateCells(
        pd.Series(dates, index=index),
        _precision_names(precision, index),
        pd.Series(bad, index=index),
        pd.Series(out_of_range, index=index),
    )


def _precision_names(codes: np.ndarray, index: pd.Index) -> pd.Series:
    """Precision codes (indices into :data:`DATE_PRECISIONS`) as their names."""
    names = np.array(DATE_PRECISIONS, dtype=object)
    return pd.Series(names[codes], index=index, dtype=object)
