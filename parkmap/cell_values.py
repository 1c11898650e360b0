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
from typing import Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from parkmap.errors import UsageError
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

#: Dtype of parsed text: pandas' Arrow-backed strings.
TEXT: Final = pd.StringDtype("pyarrow", na_value=np.nan)

#: Excel's day zero for the 1900 date system (serial 1 = 1900-01-01, with Excel's leap-year bug).
_EXCEL_EPOCH: Final = pd.Timestamp("1899-12-30")
#: Serial numbers accepted as dates: 1954-10-05 .. 2119-06-24, so years typed as numbers are not.
_EXCEL_SERIAL_RANGE: Final = (20000, 80000)


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
    for chunk in pa.chunked_array(pa.array(text, from_pandas=True)).chunks:
        data = chunk.buffers()[2]
        if data is not None and memoryview(data).tobytes().find(b"\xef") >= 0:
            return True
    return False


def cell_text(value: object) -> str:
    """One cell as the stripped, NFKC-normalised text :func:`as_text` gives (for messages)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return unicodedata.normalize("NFKC", _cell_to_text(value)).strip()


def _cell_to_text(value: object) -> str:
    # Integral floats from Excel (12500.0) print without a trailing .0 so ids stay as typed.
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    return str(value)


def parse_number(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse plain numbers such as coordinates.

    Returns
    -------
    numbers
        Float values, NaN where empty or unreadable.
    bad
        True where a cell has text that is not a number.
    """
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.astype(float), pd.Series(False, index=values.index)  # Parquet, Excel
    text = as_text(values).str.replace("°", "", regex=False)
    numbers = _to_float(text)
    bad = (text != "") & numbers.isna()
    return numbers, bad


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
    # Only ASCII letters, digits and signs can still spell a number ("inf", "1E+3 ").
    maybe = pc.fill_null(pc.match_substring_regex(cells, r"^[0-9A-Za-z.+\-_ ]+$"), False)
    rest = maybe.to_numpy(zero_copy_only=False) & ~plain.to_numpy(zero_copy_only=False)
    if rest.any():
        out[rest] = pd.to_numeric(text[rest], errors="coerce").astype(float)
    return out


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
    """Normalise project statuses to ``signed``, ``under_construction``, ``in_production``.

    Returns
    -------
    statuses
        Canonical statuses; ``"unknown"`` where empty or unrecognised.
    bad
        True where a cell has a status that is not recognised.
    """
    text = as_text(values)
    # A column holds a handful of distinct statuses: normalise those, then spread them out.
    codes, uniques = pd.factorize(text)
    keys = [re.sub(r"[\s_\-]", "", u.lower()) for u in uniques]
    canonical = np.array([STATUS_ALIASES.get(k) for k in keys] + [None], dtype=object)
    statuses = pd.Series(canonical[codes], index=values.index, dtype=object)
    bad = (text != "") & statuses.isna()
    return statuses.fillna("unknown").astype(object), bad


def _iso_dates(text: pd.Series) -> pd.Series:
    """Dates written exactly ``YYYY-MM-DD`` (years 1900–2199), parsed in C++; NaT elsewhere.

    Arrow's strptime rolls impossible dates over (``2020-02-30`` → March 1st), so a date is kept
    only when its day of the month is the one typed.
    """
    cells = pa.array(text, type=pa.string(), from_pandas=True)
    shaped = pc.match_substring_regex(cells, r"^(19|20|21)\d\d-\d\d-\d\d$")
    if not pc.any(shaped).as_py():
        return pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    parsed = pc.strptime(cells, format="%Y-%m-%d", unit="s", error_is_null=True)
    day_text = pc.if_else(shaped, pc.utf8_slice_codeunits(cells, 8, 10), "0")
    typed_day = pc.cast(pc.fill_null(day_text, "0"), pa.int64())
    exact = pc.and_kleene(shaped, pc.equal(pc.day(parsed), typed_day))
    kept = pc.if_else(exact, parsed, pa.scalar(None, parsed.type))
    return pd.Series(kept.to_numpy(zero_copy_only=False), index=text.index).astype("datetime64[ns]")


_DATE_PARTS = (
    r"^(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})"
    r"(?: (?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?)?$"
)


def _dates_from_parts(cleaned: pd.Series) -> pd.Series:
    """``Y-M-D`` with an optional ``H:MM[:SS]`` → datetimes; NaT for other text or no such day."""
    cells = pa.array(cleaned, type=pa.string(), from_pandas=True)
    parts = pc.extract_regex(cells, _DATE_PARTS)
    fields = {}
    for name in ("year", "month", "day", "hour", "minute", "second"):
        text = pc.struct_field(parts, name)
        default = "0" if name in ("hour", "minute", "second") else None
        if default is not None:  # optional groups that did not take part come back empty
            text = pc.if_else(pc.equal(text, ""), default, text)
        fields[name] = pc.cast(text, pa.int64()).to_numpy(zero_copy_only=False)
    frame = pd.DataFrame(fields, index=cleaned.index)
    matched = frame["year"].notna()
    out = pd.Series(pd.NaT, index=cleaned.index, dtype="datetime64[ns]")
    if matched.any():
        # to_datetime checks each day exists (2023-02-29 → NaT) for the whole column at once.
        out[matched] = pd.to_datetime(frame[matched].astype("int64"), errors="coerce")
    return out


def parse_date(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse dates as spreadsheets hold them.

    Accepts ``2020-06-30``, ``2020/6/30``, ``2020.6.30``, ``2020年6月30日``, Excel serial numbers
    (``44012``) and datetimes that Excel readers already produced.

    Returns
    -------
    dates
        ``datetime64[ns]`` values, NaT where empty or unreadable.
    bad
        True where a cell has text that is not a date.
    """
    if pd.api.types.is_datetime64_any_dtype(values):
        dates = values.dt.tz_localize(None) if values.dt.tz is not None else values
        return dates.astype("datetime64[ns]"), pd.Series(False, index=values.index)
    raw = values.astype(object)
    text = as_text(values)
    dates = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")

    if pd.api.types.is_string_dtype(values) and not pd.api.types.is_object_dtype(values):
        is_stamp = pd.Series(False, index=values.index)  # text cells (CSV): no datetimes
    else:
        is_stamp = raw.map(lambda v: isinstance(v, pd.Timestamp | np.datetime64 | dt.date))
    if is_stamp.any():
        dates[is_stamp] = pd.to_datetime(raw[is_stamp], errors="coerce")

    iso = _iso_dates(text.where(~is_stamp, ""))
    is_iso = iso.notna()
    if is_iso.any():
        dates[is_iso] = iso[is_iso]

    todo = ~is_stamp & ~is_iso & (text != "")
    serial = _to_float(text.where(todo, "")) if todo.any() else pd.Series(np.nan, index=text.index)
    lo, hi = _EXCEL_SERIAL_RANGE
    is_serial = serial.between(lo, hi) & todo
    if is_serial.any():
        dates[is_serial] = _EXCEL_EPOCH + pd.to_timedelta(serial[is_serial].round(), unit="D")

    rest = todo & ~is_serial
    if rest.any():
        cleaned = (
            text[rest]
            .str.replace(r"[年月./]", "-", regex=True)
            .str.replace("日", "", regex=False)
            .str.strip("-")
        )
        dates[rest] = _dates_from_parts(cleaned)
    bad = (text != "") & dates.isna()
    return dates, bad
