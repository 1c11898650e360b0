"""The packed project columns: the one description of the Python ↔ JavaScript payload contract.

The projects layer gets its columns as two gzip'd, base64'd binary blocks, numbers (``packed``)
and texts (``textPacked``): one section after another, each described by an entry of the
payload's ``layout`` / ``textLayout`` (``[key, type, bytes, delta]``). Integer columns are
little-endian ``i8`` / ``i16`` / ``i32`` (the smallest that holds them; ``f64`` for integers
past 32 bits) stored byte-plane by byte-plane (all first bytes, then all second bytes, …, which
gzip packs far better than interleaved bytes), as differences from the previous value when
``delta`` is 1. A text column is two sections: ``<key>.len``, the length of each text in UTF-16
code units (what JavaScript's ``String.length`` counts), and ``<key>`` (type ``utf8``), all
texts one after another, so that the page decodes them in one call and cuts a text out only
when it shows or searches it. This module says, once, what each key
holds and how its integers scale:

- :func:`parkmap.webmap.payloads.pack_projects` writes the sections with these keys and scales;
- :func:`parkmap.webmap.assets.runtime_js` puts :func:`for_page` into the page as the constant
  ``PAYLOAD_SCHEMA``, from which ``js/decode.js`` reads keys and scales;
- :func:`parkmap.webmap.payloads.unpack_projects` and the tests decode with the same fields.

Every stored number is an integer: ``stored = round(value × scale)``, so ``value = stored / scale``
(coordinates first add the payload's origin ``x0`` / ``y0``). :data:`MISSING` marks an unknown
number or "no index".

Example:
    >>> from parkmap.webmap import payload_schema as schema
    >>> schema.INV.key, schema.INV.scale
    ('inv', 10000)
    >>> schema.BY_KEY["osys"].column
    'origSys'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

#: Integer units per degree: coordinates are stored in millionths of a degree (~0.1 m).
COORD_SCALE = 1_000_000
#: Decimals of a coordinate written as text (the popup's "coordinates as given").
COORD_DECIMALS = 6
#: Integer units per 亿元: investment is stored in 0.0001 亿元 (= 万元).
INV_SCALE = 10_000
#: Integer units per km: distances to the nearest park are stored in tenths of a km.
KM_SCALE = 10
#: Stored for an unknown number (investment, date) and for "no index" (park, system).
MISSING = -1

#: Keys of the payload (not of the packed block) holding the integer origins of the coordinates.
LON_ORIGIN = "x0"
LAT_ORIGIN = "y0"
#: Key of the payload (not of the packed block) holding the number of projects.
COUNT_KEY = "n"
#: Key of the payload holding base64 of the gzip of the packed sections.
PACKED_KEY = "packed"
#: Key of the payload holding the sections' ``[key, type, bytes, delta]``, in order.
LAYOUT_KEY = "layout"
#: Keys of the payload holding the text columns' sections, packed apart from the numbers so
#: that the page paints before it has unpacked the texts.
TEXT_PACKED_KEY = "textPacked"
TEXT_LAYOUT_KEY = "textLayout"
#: Suffix of the key of a text column's lengths section.
LENGTHS_SUFFIX = ".len"
#: Bytes per value of each integer section type (``utf8``: a text column's texts).
ITEM_BYTES: dict[str, int] = {"i8": 1, "i16": 2, "i32": 4, "f64": 8}

Kind = Literal["ints", "texts"]


@dataclass(frozen=True)
class Field:
    """One column of the packed block.

    Attributes
    ----------
    column
        Name of the column in ``projects_payload()["columns"]`` and in the page's decoded columns.
    kind
        ``ints``: one integer per project; ``texts``: one text per project ("" for none).
    scale
        Integer units per unit of the value (``None`` for codes, indexes and texts).
    key
        Key of its section(s) in the packed block; the column's name when not given.
    origin
        Payload key of the integer added before scaling (``x0`` / ``y0``), if any.
    optional
        Left out of the packed block when it would hold nothing.
    meaning
        What the value is, for people.
    """

    column: str
    kind: Kind
    scale: int | None = None
    key: str = ""
    origin: str | None = None
    optional: bool = False
    meaning: str = ""

    def __post_init__(self) -> None:
        if not self.key:
            object.__setattr__(self, "key", self.column)

    def for_page(self) -> dict[str, Any]:
        """The part the page's decoder needs: key, and scale / origin when there is one."""
        out: dict[str, Any] = {"key": self.key}
        if self.scale is not None:
            out["scale"] = self.scale
        if self.origin is not None:
            out["origin"] = self.origin
        return out


LON = Field(
    "lon",
    "ints",
    COORD_SCALE,
    key="x",
    origin=LON_ORIGIN,
    meaning="longitude (WGS-84) as an offset from the payload's x0",
)
LAT = Field(
    "lat",
    "ints",
    COORD_SCALE,
    key="y",
    origin=LAT_ORIGIN,
    meaning="latitude (WGS-84) as an offset from the payload's y0",
)
INV = Field("inv", "ints", INV_SCALE, meaning="investment in 亿元; MISSING when unknown")
ST = Field("st", "ints", meaning="index into the payload's statuses")
IND = Field("ind", "ints", meaning="index into the payload's industries")
PARK = Field(
    "park",
    "ints",
    meaning="index into parkNames of the park it lies in (else of its own park_name), or "
    "MISSING; the payload's parkOfLabel gives, per label, the index of the park in the parks "
    "layer (MISSING for a park_name label), so that the page sums figures per park",
)
NEAR = Field("near", "ints", meaning="index into parkNames of the nearest park, or MISSING")
NAME = Field("name", "texts", meaning="project name")
ID = Field("id", "texts", optional=True, meaning="project id (left out when all empty)")
DAY = Field(
    "day",
    "ints",
    optional=True,
    meaning="signing date as days since 1970-01-01, MISSING when unknown (left out when none)",
)
KM = Field(
    "km",
    "ints",
    KM_SCALE,
    optional=True,
    meaning="distance to the nearest park in km, for projects outside every park; for a "
    "project counted in its declared park from outside it, the distance to that park (MISSING "
    "for the others; left out when none)",
)
WARN = Field("warn", "texts", optional=True, meaning="the row's warnings (left out when none)")
ORIG_SYS = Field(
    "origSys",
    "ints",
    key="osys",
    optional=True,
    meaning="index into origSystems of the coordinate system the file gave, MISSING for WGS-84 "
    "rows (only in files with converted rows, as are ox and oy)",
)
ORIG_LON = Field(
    "origLon",
    "ints",
    COORD_SCALE,
    key="ox",
    optional=True,
    meaning="longitude as the file gave it, as an offset from the drawn one (0 for WGS-84 rows)",
)
ORIG_LAT = Field(
    "origLat",
    "ints",
    COORD_SCALE,
    key="oy",
    optional=True,
    meaning="latitude as the file gave it, as an offset from the drawn one (0 for WGS-84 rows)",
)

#: Every column of the packed block, in the order the packer writes them.
FIELDS: tuple[Field, ...] = (
    LON,
    LAT,
    INV,
    ST,
    IND,
    PARK,
    NEAR,
    NAME,
    DAY,
    ID,
    KM,
    WARN,
    ORIG_SYS,
    ORIG_LON,
    ORIG_LAT,
)
BY_COLUMN: dict[str, Field] = {f.column: f for f in FIELDS}
BY_KEY: dict[str, Field] = {f.key: f for f in FIELDS}


def for_page() -> dict[str, Any]:
    """The schema as the page gets it (``PAYLOAD_SCHEMA``): keys and scales, no prose."""
    return {
        "count": COUNT_KEY,
        "packed": PACKED_KEY,
        "layout": LAYOUT_KEY,
        "textPacked": TEXT_PACKED_KEY,
        "textLayout": TEXT_LAYOUT_KEY,
        "lengths": LENGTHS_SUFFIX,
        "missing": MISSING,
        "coordDecimals": COORD_DECIMALS,
        "fields": {f.column: f.for_page() for f in FIELDS},
    }
