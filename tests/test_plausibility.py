"""Plausibility warnings after the join: far-off points, amounts in the wrong unit, and amounts
too large to add up. Expected distances come from pyproj's geodesic, computed here."""

from __future__ import annotations

import math
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Geod
from shapely.geometry import box

from parkmap import pipeline
from parkmap.join import join_projects_to_parks
from parkmap.plausibility import (
    FAR_KM,
    SUM_LIMIT_100M_CNY,
    check_plausibility,
    unit_message,
)
from parkmap.settings import BuildOptions, InputOptions

GEOD = Geod(ellps="WGS84")
GUANGZHOU = (113.264385, 23.129112)

# Two parks near Qingdao; A's south-west corner is (120.1, 36.5).
PARKS = gpd.GeoDataFrame(
    {"park_id": ["A", "B"], "name": ["园区A", "园区B"]},
    geometry=[box(120.1, 36.5, 120.2, 36.6), box(120.3, 36.5, 120.4, 36.6)],
    crs="EPSG:4326",
)


def _projects(lons, lats, investment=None) -> gpd.GeoDataFrame:
    n = len(lons)
    inv = investment if investment is not None else [1.0] * n
    return gpd.GeoDataFrame(
        {
            "row": np.arange(2, n + 2),
            "park_declared": [""] * n,
            "investment_100m_cny": np.asarray(inv, dtype=float),
            "warnings": [""] * n,
        },
        geometry=gpd.points_from_xy(lons, lats),
        crs="EPSG:4326",
    )


def _km(lon1, lat1, lon2, lat2) -> float:
    return GEOD.inv(lon1, lat1, lon2, lat2)[2] / 1000.0


def _numbers(text: str) -> list[float]:
    return [float(x.replace(",", "")) for x in re.findall(r"([\d,]+(?:\.\d+)?) km", text)]


def test_a_failed_geocode_far_from_parks_and_from_the_other_projects_is_warned():
    # Four projects inside the parks, one geocoded to Guangzhou's city centre.
    lons = [120.15, 120.16, 120.35, 120.36, GUANGZHOU[0]]
    lats = [36.55, 36.56, 36.55, 36.56, GUANGZHOU[1]]
    joined = join_projects_to_parks(_projects(lons, lats), PARKS)
    checked = check_plausibility(joined)
    warnings = checked["warnings"].tolist()
    assert warnings[:4] == [""] * 4
    assert "check the coordinates (a failed geocode?)" in warnings[4]
    to_park, to_middle = _numbers(warnings[4])
    # Nearest park: A; the nearest point of its edge from far south-west is its corner.
    corner = _km(*GUANGZHOU, 120.1, 36.5)
    assert to_park == pytest.approx(corner, abs=1.0)
    # The middle of the projects: the medians, by hand, of the five longitudes and latitudes.
    middle = (120.16, 36.55)  # sorted lons: 113.26, 120.15, 120.16, 120.35, 120.36
    assert to_middle == pytest.approx(round(_km(*GUANGZHOU, *middle)), abs=0.5)
    assert to_park > 1500 and to_middle > 1500  # ~1,700 km: a sanity check on the scale


def test_a_ledger_of_another_city_is_not_warned_nor_a_point_near_a_park():
    # All in Guangzhou: far from every park, but close to their own middle.
    lons = GUANGZHOU[0] + np.array([0.0, 0.05, -0.05, 0.1])
    lats = GUANGZHOU[1] + np.array([0.0, 0.05, -0.05, -0.1])
    assert (
        check_plausibility(join_projects_to_parks(_projects(lons, lats), PARKS))["warnings"] == ""
    ).all()
    # 0.4° north of park B (about 44 km, by pyproj): inside FAR_KM of a park.
    near = (120.35, 37.0)
    assert _km(120.35, 36.6, *near) < FAR_KM
    far_from_middle = [120.15, 120.16, 120.15, near[0]]
    joined = join_projects_to_parks(
        _projects(far_from_middle, [36.55, 36.55, 36.56, near[1]]), PARKS
    )
    assert (check_plausibility(joined)["warnings"] == "").all()


def test_an_amount_a_thousand_times_the_median_gets_a_units_warning():
    amounts = [1.0, 2.0, 3.0, 4.0, 5.0, 3_815_800.0]
    lons = [120.15] * 6
    lats = [36.55] * 6
    checked = check_plausibility(join_projects_to_parks(_projects(lons, lats, amounts), PARKS))
    warnings = checked["warnings"].tolist()
    assert warnings[:5] == [""] * 5
    # median of the six amounts: (3 + 4) / 2 = 3.5; 3,815,800 / 3.5 = 1,090,228.57…
    assert warnings[5] == (
        "investment 3,815,800 亿元 is 1,090,229× the median (3.50 亿元); "
        "was it typed in 元 or 万元?"
    )
    # Still summed: a suspicious amount is flagged, not dropped.
    assert checked["investment_100m_cny"].iloc[5] == 3_815_800.0
    # Above 1e5 亿元 is implausible whatever the median.
    assert unit_message(2e5, 1e5) == (
        "investment 200,000 亿元 is above 100,000 亿元; was it typed in 元 or 万元?"
    )


def test_an_amount_too_large_to_add_up_is_left_out_of_sums():
    amounts = [2.0, 3.0, 1e308, np.inf]
    checked = check_plausibility(
        join_projects_to_parks(_projects([120.15] * 4, [36.55] * 4, amounts), PARKS)
    )
    assert checked["investment_100m_cny"].tolist()[:2] == [2.0, 3.0]
    assert checked["investment_100m_cny"].iloc[2:].isna().all()
    for text in checked["warnings"].iloc[2:]:
        assert "left out of sums" in text
    assert SUM_LIMIT_100M_CNY < 1e308


def test_nothing_flagged_returns_the_frame_itself():
    joined = join_projects_to_parks(_projects([120.15, 120.35], [36.55, 36.55]), PARKS)
    assert check_plausibility(joined) is joined


def test_build_with_1e308_in_a_cell_writes_no_inf(tmp_path):
    parks = tmp_path / "parks.geojson"
    PARKS.to_file(parks, driver="GeoJSON")
    ledger = pd.DataFrame(
        {
            "project_id": ["P1", "P2", "P3", "P4", "P5"],
            "status": ["签约"] * 5,
            "investment_100m_cny": ["2", "1e308", "1e308", "3", "5"],
            "lon": [120.15, 120.16, 120.17, 120.35, GUANGZHOU[0]],
            "lat": [36.55, 36.55, 36.55, 36.55, GUANGZHOU[1]],
        }
    )
    ledger.to_csv(tmp_path / "ledger.csv", index=False)
    inputs = InputOptions(projects=tmp_path / "ledger.csv", parks=(parks,))
    analysis, files = pipeline.build(BuildOptions(inputs=inputs, out=tmp_path / "out"))
    text = files["parks"].read_text(encoding="utf-8-sig")
    assert "inf" not in text
    table = pd.read_csv(files["parks"], encoding="utf-8-sig").set_index("park_id")
    # A: P1 (2) summed, P2 and P3 counted but left out; B: P4 (3).
    assert table.loc["A", "projects"] == 3
    assert table.loc["A", "investment_100m_cny"] == 2.0
    assert table.loc["B", "investment_100m_cny"] == 3.0
    assert math.isfinite(table["density_100m_cny_per_km2"].sum())
    # The summary counts the warned rows (P2, P3 and the far-off P5); problems list them.
    assert analysis.summary.warnings == 3
    lines = [p for p in analysis.problems if "warning" in p]
    assert len(lines) == 3
    assert "row 3" in lines[0] and "left out of sums" in lines[0]
    assert "row 6" in lines[2] and "failed geocode" in lines[2]
