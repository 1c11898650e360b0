"""Bundled Qingdao demo data (installed as ``parkmap.geodata``).

``parks.geojson`` and ``context.geojson`` are schematic outlines drawn by this project from public
facts; ``projects.csv`` holds the projects named in public reports plus a synthetic set made by
:mod:`parkmap.geodata.make_demo_projects`.
"""
