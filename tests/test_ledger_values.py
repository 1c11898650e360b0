"""Ledger cells as planners type them, read through validation: header words, status phrases,
month-only dates, coordinates in degrees–minutes–seconds, and the messages that name them."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from parkmap import load
from parkmap.schema import match_headers

#: 120°9'57.87" = 120 + 9/60 + 57.87/3600 and 36°32'45.43" = 36 + 32/60 + 45.43/3600.
LON_DMS = 120 + 9 / 60 + 57.87 / 3600  # 120.166075
LAT_DMS = 36 + 32 / 60 + 45.43 / 3600  # 36.5459527…


def write_gbk(path, lines):
    """A CSV as Excel saves it in a Chinese locale: GBK, CRLF line ends."""
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))
    return path


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (
            ["序号", "项目名称", "所属园区", "项目进展", "计划总投资", "签约时间", "经度", "纬度"],
            {
                "name": "项目名称",
                "park": "所属园区",
                "status": "项目进展",
                "investment": "计划总投资",
                "signed_date": "签约时间",
                "lon": "经度",
                "lat": "纬度",
            },
        ),
        (
            ["序号", "项目名", "所在园区", "建设进度", "总投资额（万元）", "东经", "北纬"],
            {
                "name": "项目名",
                "park": "所在园区",
                "status": "建设进度",
                "investment": "总投资额（万元）",
                "lon": "东经",
                "lat": "北纬",
            },
        ),
        (
            ["园区(片区)", "进展情况", "计划总投资额", "经度(°)", "纬度(°)"],
            {
                "park": "园区(片区)",
                "status": "进展情况",
                "investment": "计划总投资额",
                "lon": "经度(°)",
                "lat": "纬度(°)",
            },
        ),
        (["项目阶段", "投资金额", "x", "y"], {"status": "项目阶段", "investment": "投资金额"}),
        (["建设状态", "项目总投资"], {"status": "建设状态", "investment": "项目总投资"}),
        (["进度"], {"status": "进度"}),
    ],
)
def test_ledger_header_words(headers, expected):
    found = {name: header for name, (header, _) in match_headers(headers).items()}
    assert {k: found[k] for k in expected} == expected
    assert "project_id" not in found  # 序号 is a serial number, not a project id


def test_a_serial_number_column_is_no_project_id(tmp_path):
    path = write_gbk(
        tmp_path / "台账.csv",
        ["序号,项目名称,经度,纬度", "1,甲,120.1,36.5", "2,乙,120.2,36.6", "2,丙,120.3,36.7"],
    )
    loaded = load.projects_from_file(path)
    assert loaded.rejected.empty  # a repeated 序号 is no duplicate id
    assert loaded.projects["project_id"].tolist() == ["R2", "R3", "R4"]
    assert loaded.projects["序号"].tolist() == ["1", "2", "2"]  # kept as an extra column


def test_statuses_typed_as_phrases(tmp_path):
    path = write_gbk(
        tmp_path / "台账.csv",
        [
            "项目编号,项目名称,建设进度,东经,北纬",
            "P1,甲,开工建设,120.1,36.5",
            "P2,乙,前期手续办理中,120.1,36.5",
            "P3,丙,已签约,120.1,36.5",
            "P4,丁,竣工投产,120.1,36.5",
            "P5,戊,停建,120.1,36.5",
            "P6,己,看情况,120.1,36.5",
        ],
    )
    projects = load.projects_from_file(path).projects.set_index("project_id")
    assert projects["status"].tolist() == [
        "under_construction",
        "planned",
        "signed",
        "in_production",
        "unknown",
        "unknown",
    ]
    assert projects["status_raw"].iloc[4] == "停建"
    assert projects.loc["P5", "warnings"] == (
        "status “停建” means the project stopped; counted as unknown"
    )
    assert projects.loc["P6", "warnings"] == "status “看情况” not recognised"
    assert (projects["warnings"].iloc[:4] == "").all()


def test_a_status_column_of_geocoding_results_gets_one_note(tmp_path):
    lines = ["项目编号,项目名称,状态,经度,纬度"]
    lines += [f"P{i},项目{i},{'ok' if i % 4 else 'fail'},120.1,36.5" for i in range(8)]
    lines += ["P8,项目8,在建,120.1,36.5"]  # one real status among nine cells: still a minority
    loaded = load.projects_from_file(write_gbk(tmp_path / "geocoded.csv", lines))
    notes = [n for n in loaded.notes if "statuses" in n]
    assert notes == [
        "column '状态' does not hold project statuses (e.g. “fail”); statuses left unknown"
    ]
    assert (loaded.projects["status"] == "unknown").all()
    assert (loaded.projects["warnings"] == "").all()  # no warning per row
    assert loaded.projects["status_raw"].iloc[1] == "ok"  # what the file said is kept


def test_a_few_unknown_statuses_still_warn_row_by_row(tmp_path):
    lines = ["项目编号,项目名称,状态,经度,纬度", "P1,甲,在建,120.1,36.5", "P2,乙,在建,120.1,36.5"]
    lines += ["P3,丙,ok,120.1,36.5", "P4,丁,,120.1,36.5"]  # half of the filled cells: warn
    loaded = load.projects_from_file(write_gbk(tmp_path / "p.csv", lines))
    assert not any("statuses" in n for n in loaded.notes)
    assert loaded.projects["warnings"].tolist() == ["", "", "status “ok” not recognised", ""]


def test_month_only_dates_and_their_precision(tmp_path):
    path = write_gbk(
        tmp_path / "台账.csv",
        [
            "项目编号,项目名称,签约时间,经度,纬度",
            "P1,甲,2020年6月,120.1,36.5",
            "P2,乙,2020.4,120.1,36.5",
            "P3,丙,2020年,120.1,36.5",
            "P4,丁,2020/6/30,120.1,36.5",
            "P5,戊,9999-12-31,120.1,36.5",
            "P6,己,,120.1,36.5",
        ],
    )
    projects = load.projects_from_file(path).projects
    assert projects["signed_date"].iloc[:4].tolist() == [
        pd.Timestamp(2020, 6, 1),
        pd.Timestamp(2020, 4, 1),
        pd.Timestamp(2020, 1, 1),
        pd.Timestamp(2020, 6, 30),
    ]
    assert projects["signed_date"].iloc[4:].isna().all()
    assert projects["signed_date_precision"].tolist() == ["month", "month", "year", "day", "", ""]
    cols = list(projects.columns)
    assert cols.index("signed_date_precision") == cols.index("signed_date") + 1
    assert projects["warnings"].iloc[4] == (
        "signed date “9999-12-31” is outside 1900–2100; left empty"
    )
    assert (projects["warnings"].drop(index=4) == "").all()


def test_workbook_dates_out_of_range_do_not_crash(tmp_path):
    path = tmp_path / "p.xlsx"
    pd.DataFrame(
        {
            "项目编号": ["P1", "P2", "P3", "P4"],
            "签约日期": [dt.datetime(9999, 12, 31), dt.datetime(2020, 6, 30), "2020年6月", 2019],
            "经度": [120.1, 120.1, 120.1, 120.1],
            "纬度": [36.5, 36.5, 36.5, 36.5],
        }
    ).to_excel(path, index=False)
    projects = load.projects_from_file(path).projects
    assert pd.isna(projects["signed_date"].iloc[0])
    assert projects["signed_date"].iloc[1:].tolist() == [
        pd.Timestamp(2020, 6, 30),
        pd.Timestamp(2020, 6, 1),
        pd.Timestamp(2019, 1, 1),
    ]
    assert projects["signed_date_precision"].tolist() == ["", "day", "month", "year"]
    assert projects["warnings"].iloc[0] == (
        "signed date “9999-12-31” is outside 1900–2100; left empty"
    )


def test_coordinates_in_degrees_minutes_seconds(tmp_path):
    path = write_gbk(
        tmp_path / "台账.csv",
        [
            "项目编号,项目名称,经度,纬度",
            'P1,甲,"120°9\'57.87""E","36°32\'45.43""N"',
            "P2,乙,120°9′57.87″E,36°32′45.43″N",
            "P3,丙,120度9分57.87秒,36度32分45.43秒",
            "P4,丁,120°9.9645',36.5",
            'P5,戊,"120°0\'48""X",36.5',  # no such hemisphere
            "P6,己,120°61',36.5",  # 61 minutes
            'P7,庚,"120°9\'57.87""W",36.5',  # west: outside China
        ],
    )
    loaded = load.projects_from_file(path)
    projects = loaded.projects.set_index("project_id")
    np.testing.assert_allclose(projects.loc[["P1", "P2", "P3"], "lon_orig"], LON_DMS, atol=1e-12)
    np.testing.assert_allclose(projects.loc[["P1", "P2", "P3"], "lat_orig"], LAT_DMS, atol=1e-12)
    assert projects.loc["P4", "lon_orig"] == pytest.approx(120 + 9.9645 / 60, abs=1e-12)
    reasons = loaded.rejected.set_index("project_id")["reason"]
    assert reasons["P5"] == "经度 “120°0'48\"X” is not a coordinate"
    assert reasons["P6"] == "经度 “120°61'” is not a coordinate"
    assert reasons["P7"].startswith("lon -120.166, lat 36.5 outside China")
