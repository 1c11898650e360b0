"""Compose the interactive map of an analysis: the density surface, the investment grid and the
display shift are worked out here, then :func:`parkmap.webmap.build_map` draws the page.

A notebook that calls :func:`make_map` gets the same map as ``parkmap build``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from parkmap.i18n import texts
from parkmap.settings import MapOptions

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from parkmap.analysis import Analysis
    from parkmap.density import SurfaceJob
    from parkmap.webmap.offline import OfflineMap

#: The columns of the project table the page reads (besides the points): the popups, filters,
#: legend, notes, density surface and grid. The Dask engine reads only these back from
#: ``projects.parquet`` to draw its map; a test checks that the page made from them is the page
#: made from every column, so a column the page starts to read must be added here.
MAP_PROJECT_COLUMNS = (
    "project_id",
    "name",
    "industry",
    "status",
    "investment_100m_cny",
    "signed_date",
    "park_id",
    "park_name",
    "park_ids",
    "outside_parks",
    "nearest_park_id",
    "distance_km",
    "declared_km",
    "warnings",
    "lon_orig",
    "lat_orig",
    "coord_sys",
    "source",
)

#: File stems that say nothing about the data: a layer so named gives the count title.
GENERIC_STEMS = frozenset({"parks", "park", "layer", "data", "export", "园区", "园区边界"})


def default_title(parks: pd.DataFrame, lang: str) -> str:
    """The title of a map or sheet when none is given, from the data.

    The bundled demo keeps its own title (青岛重点产业园区投资项目); other data gets the park
    layer's name (its file stem, e.g. "上海产业园区：3 个园区投资项目") when one layer was read
    and its stem says something, else the count: "3 个园区投资项目" / "Investment projects in 3
    parks". What the data is comes from ``parks.attrs["layer"]`` (``{"demo": bool, "name":
    str}``, set by :func:`parkmap.pipeline.analyse`); a frame without it counts as not the demo.

    Parameters
    ----------
    parks
        The analysis's park figures (``Analysis.parks``).
    lang
        ``"zh"`` or ``"en"``.
    """
    t = texts(lang)
    layer = parks.attrs.get("layer") or {}
    if layer.get("demo"):
        return t["title"]
    name = str(layer.get("name") or "").strip()
    if name and name.lower() not in GENERIC_STEMS:
        return t["title_layer"].format(layer=name, parks=len(parks))
    return t["title_parks"].format(parks=len(parks))


def make_map(
    analysis: Analysis,
    options: MapOptions | None = None,
    *,
    grid: gpd.GeoDataFrame | None = None,
    started: SurfaceJob | None = None,
) -> OfflineMap:
    """The interactive map (an :class:`~parkmap.webmap.OfflineMap`) of an analysis.

    The investment density surface is added when at least one project has a known, positive
    investment. The hexagon grid (``cell_km`` between cell centres) holds the cells with
    projects and two rings of neighbours, where they meet a park (see
    :func:`parkmap.density.hex_grid`). On an Amap basemap every layer is shifted into GCJ-02
    first, so it lines up with Amap's roads.
    ``grid`` is a grid :func:`parkmap.density.hex_grid` already made of the same projects with
    ``options.cell_km`` (the cluster statistics' grid), drawn instead of a new one.
    ``started`` is a density surface and grid of the same projects begun earlier on another
    thread (:class:`parkmap.density.SurfaceJob`): each is used when it fits these projects and
    options and the map is drawn in WGS-84, else it is made here.
    """
    options = options or MapOptions()
    lang = options.lang
    from concurrent.futures import ThreadPoolExecutor

    from parkmap.density import SurfaceJob, hex_grid
    from parkmap.webmap import build_map, payloads
    from parkmap.webmap.basemaps import display_system, to_display
    from parkmap.webmap.build import check_choices

    check_choices(lang, options.color_by)

    system = display_system(options.basemap)
    parks = to_display(analysis.parks, system)
    all_projects = analysis.projects
    investment = all_projects["investment_100m_cny"].to_numpy(dtype=float, na_value=np.nan)
    # The density surface and the grid need positions and amounts only: a two-column frame
    # keeps a million-project map from copying every column.
    located = to_display(all_projects[["investment_100m_cny", all_projects.geometry.name]], system)
    if started is not None and not (
        system == "wgs84" and started.fits(all_projects, investment, options.bandwidth_km)
    ):
        started = None
    # The surface (a KD-tree and FFTs, mostly outside the GIL) and the grid are worked out on
    # a second thread while this one makes the projects' payload: by the build's job started
    # before the join, else by one started here.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="parkmap-density") as pool:
        if started is None:
            started = SurfaceJob(
                located,
                investment,
                bandwidth_km=options.bandwidth_km,
                pool=pool,
                cell_km=options.cell_km if grid is None and len(located) else None,
                cover=parks,
            )
        fitting = grid is None and started.fits_grid(options.cell_km, parks)
        job_grid = started.grid if fitting else None
        if grid is not None:
            hexes = to_display(grid, system)
        elif job_grid is not None or not len(located):
            hexes = None  # the job's grid, taken below (none without projects)
        else:  # an early job's grid of other cells or parks
            hexes = hex_grid(
                located, cell_km=options.cell_km, cover=parks, points=started.points.result()
            )
        # Every project goes into the page: it packs them as typed arrays and draws them with
        # level of detail (bins where they crowd, points zoomed in), so no sample is needed.
        drawn = to_display(all_projects, system)
        project_data = payloads.projects_payload(drawn, parks, lang, options.color_by)
        # Packing (gzip outside the GIL) also overlaps the surface, rather than following it.
        packed = payloads.pack_projects(project_data)
        surface = started.surface.result()
        if job_grid is not None:
            hexes = job_grid.result()
    return build_map(
        parks,
        drawn,
        project_data=project_data,
        packed_projects=packed,
        context=to_display(analysis.context, system),
        density=surface,
        breakdown=analysis.breakdown,
        scheme=options.scheme,
        k=options.k,
        lang=lang,
        color_by=options.color_by,
        title=options.title or default_title(analysis.parks, lang),
        basemap=options.basemap,
        tianditu_key=options.tianditu_key,
        hexes=hexes,
    )
