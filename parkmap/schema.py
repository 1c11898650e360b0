"""Project columns as ledgers name them: aliases, header matching and units in headers.

A ledger's headers come in Chinese or English, with units and notes in brackets
(``总投资（万元）``). Every reader matches them here, so a new alias is added once.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Final

from parkmap import cell_values

#: Header spellings for each canonical project column, compared after :func:`header_key`.
#: ``序号`` (a serial number that restarts or skips with subtotal rows) is deliberately absent:
#: it is no project id, so such a file gets row-numbered ids.
PROJECT_ALIASES: Final[dict[str, list[str]]] = {
    "project_id": [
        "项目编号",
        "项目代码",
        "项目id",
        "编号",
        "序号id",
        "project_id",
        "projectid",
        "id",
    ],
    "name": [
        "项目名称",
        "项目名",
        "名称",
        "项目",
        "name",
        "project_name",
        "projectname",
        "project",
        "title",
    ],
    "park": [
        "所属园区",
        "所在园区",
        "园区",
        "园区名称",
        "园区片区",
        "所属片区",
        "所属开发区",
        "park",
        "park_name",
        "parkname",
    ],
    "district": ["所属区市", "区市", "区县", "所属区县", "district", "county", "city"],
    "industry": ["产业类别", "产业", "行业", "产业类型", "industry", "sector"],
    "status": [
        "项目状态",
        "状态",
        "项目进展",
        "进展",
        "进展情况",
        "建设进度",
        "建设状态",
        "项目阶段",
        "进度",
        "status",
        "stage",
    ],
    "investment": [
        "总投资",
        "投资额",
        "计划总投资",
        "投资总额",
        "总投资额",
        "计划总投资额",
        "项目总投资",
        "投资金额",
        "investment",
        "total_investment",
    ],
    "signed_date": [
        "签约日期",
        "签约时间",
        "签约日",
        "signed_date",
        "signeddate",
        "date",
        "signed",
    ],
    "lon": ["经度", "lon", "lng", "long", "longitude", "东经", "x"],
    "lat": ["纬度", "lat", "latitude", "北纬", "y"],
    "source": ["来源", "数据来源", "source"],
    "coord_sys": ["坐标系", "坐标系统", "coord_sys", "coordsys", "coordinate_system", "crs"],
}


#: English investment headers that carry their unit in the name.
UNIT_IN_NAME: Final[dict[str, str]] = {
    "investment_100m_cny": "yi",
    "investment_yi": "yi",
    "investment_10k_cny": "wan",
    "investment_wan": "wan",
    "investment_cny": "yuan",
    "investment_yuan": "yuan",
}

PARK_ID_FIELDS: Final = ("park_id", "id", "adcode", "code")
PARK_NAME_FIELDS: Final = ("name_zh", "name", "名称", "园区名称", "park_name")

_BRACKETED = re.compile(r"^(?P<key>.*?)\s*[\(\[【](?P<inner>[^\)\]】]*)[\)\]】]\s*$")


def header_key(header: object) -> tuple[str, str | None, str]:
    """Split a header into a matching key, a unit (if it names one) and a bracketed note.

    ``总投资（万元）`` → ``("总投资", "wan", "万元")``; ``Longitude`` → ``("longitude", None, "")``.
    """
    text = unicodedata.normalize("NFKC", str(header)).strip()
    unit = None
    note = ""
    match = _BRACKETED.match(text)
    if match:
        text, note = match["key"], match["inner"].strip()
        unit = cell_values.UNIT_ALIASES.get(note.lower().replace(" ", "").replace("人民币", ""))
    key = re.sub(r"[\s\-]+", "_", text.lower()).strip("_")
    if key in UNIT_IN_NAME:
        unit = UNIT_IN_NAME[key]
    return key, unit, note


def match_headers(columns: Iterable[object]) -> dict[str, tuple[str, str | None]]:
    """Map canonical project columns to the file's headers.

    Returns
    -------
    dict
        canonical name → (header as written, unit found in the header or ``None``). When two
        headers match the same column, the one whose alias comes first in the table wins.
    """
    found: dict[str, tuple[int, str, str | None]] = {}
    for header in columns:
        key, unit, _ = header_key(header)
        squashed = key.replace("_", "")
        for canonical, aliases in PROJECT_ALIASES.items():
            for rank, alias in enumerate(aliases):
                if key == alias or squashed == alias.replace("_", ""):
                    if canonical not in found or rank < found[canonical][0]:
                        found[canonical] = (rank, str(header), unit)
                    break
        if key in UNIT_IN_NAME and "investment" not in found:
            found["investment"] = (0, str(header), unit)
    return {name: (header, unit) for name, (_, header, unit) in found.items()}
