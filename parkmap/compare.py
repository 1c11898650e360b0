"""Two snapshots of the project ledger → what changed, project by project and park by park.

A pure stage: it takes two analysed project frames (:attr:`parkmap.analysis.Analysis.projects`,
the same columns however the snapshot was read) and the park layer, and returns tables. Nothing
is read or written here.

Matching
    First by ``project_id``, for rows whose id the ledger gave (a row without one gets ``R`` and
    its row number from :mod:`parkmap.validate`; such made-up ids are never matched, as a row
    number says nothing about the project). Rows left over, where at least one side has no id,
    are then matched by *name + park*: the project name and the park the ledger names (its 园区
    column), or the park the point lies in when the ledger names none. A repeated key is paired
    in row order, first with first, and a warning says so. :class:`MatchReport` says how many
    were matched each way.

Changes, one row per change (:data:`CHANGE_KINDS`)
    ``new`` and ``removed`` (before/after hold the status); ``status`` ranked along
    :data:`STATUS_ORDER` — ``step`` is ``up`` or ``back`` (a step back is flagged on its own),
    empty when either side is unknown; ``investment`` — any change in the stored value after
    rounding to :data:`INVESTMENT_DECIMALS` decimals of 亿元 (1 元 = 1e-8 亿元, so this only
    drops floating-point noise); an unknown amount is written ``unknown`` and is never 0;
    ``moved`` — the point moved more than :data:`MOVE_THRESHOLD_M` metres on the WGS-84
    ellipsoid (geodesic); ``renamed``; ``park`` — the park the point lies in changed (``""``:
    outside every park).

Parks
    Per park: projects and investment before and after (a project counts in every park its
    point lies in, as in ``parks.csv``), new projects and their investment, removed projects,
    status step-ups and step-backs, and the park's rank *by investment* (1 = most; parks of
    equal investment share the better rank; a park with no known investment has none) before
    and after.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

import numpy as np
import pandas as pd
from pyproj import Geod

from parkmap.i18n import park_name
from parkmap.settings import ELLIPSOID

#: The stages a project goes through, in order: a later one is a step up.
STATUS_ORDER: Final = ("planned", "signed", "under_construction", "in_production")
#: The kinds of change, in the order ``changes.csv`` lists them.
CHANGE_KINDS: Final = ("new", "removed", "status", "investment", "moved", "renamed", "park")
#: A project whose point moved further than this (metres, geodesic) has "moved".
MOVE_THRESHOLD_M: Final = 100.0
#: Investment is compared after rounding to this many decimals of 亿元 (1e-8 亿元 = 1 元).
INVESTMENT_DECIMALS: Final = 8
#: What ``before``/``after`` say for an amount or status the ledger does not give.
UNKNOWN: Final = "unknown"
#: Columns of ``changes.csv``.
CHANGE_COLUMNS: Final = [
    "project_id",
    "name",
    "park_id",
    "change",
    "before",
    "after",
    "step",
    "distance_m",
    "investment_100m_cny",
    "matched_by",
    "lon",
    "lat",
]
#: Columns of ``park_changes.csv``.
PARK_CHANGE_COLUMNS: Final = [
    "park_id",
    "name",
    "projects_before",
    "projects_after",
    "investment_before_100m_cny",
    "investment_after_100m_cny",
    "investment_change_100m_cny",
    "new_projects",
    "new_investment_100m_cny",
    "removed_projects",
    "step_ups",
    "step_backs",
    "rank_before",
    "rank_after",
]

_GEOD = Geod(ellps=ELLIPSOID)


@dataclass
class MatchReport:
    """How the two snapshots were matched.

    Attributes
    ----------
    by_id, by_name_park
        Projects matched by ``project_id`` and by name + park.
    new, removed
        Projects only in the new snapshot, only in the old one.
    warnings
        Repeated ids or name + park keys, paired in row order.
    """

    by_id: int = 0
    by_name_park: int = 0
    new: int = 0
    removed: int = 0
    warnings: list[str] = field(default_factory=list)

    def line(self) -> str:
        """``"matched 12 by project_id, 3 by name + park; 2 new, 1 removed"``."""
        return (
            f"matched {self.by_id} by project_id, {self.by_name_park} by name + park; "
            f"{self.new} new, {self.removed} removed"
        )


@dataclass
class Comparison:
    """What :func:`compare_snapshots` found.

    Attributes
    ----------
    changes
        One row per change (:data:`CHANGE_COLUMNS`).
    parks
        One row per park (:data:`PARK_CHANGE_COLUMNS`), in the park layer's order.
    headline
        Citywide figures: ``projects_before/after``, ``investment_before/after`` (亿元, NaN
        when no amount is known), ``new_projects``, ``new_investment``, ``removed_projects``,
        ``step_ups``, ``step_backs``, ``parks_without_progress``.
    match
        How the projects were matched.
    """

    changes: pd.DataFrame
    parks: pd.DataFrame
    headline: dict[str, float]
    match: MatchReport


def status_rank(status: pd.Series) -> pd.Series:
    """The position of each status in :data:`STATUS_ORDER` (0 = planned), NaN when unknown."""
    ranks = {s: float(i) for i, s in enumerate(STATUS_ORDER)}
    return status.astype(object).map(ranks).astype(float)


def made_up_ids(projects: pd.DataFrame) -> pd.Series:
    """Whether each row's ``project_id`` was made from its row number (``R12``, ``R12-2``),
    the ledger giving none."""
    ids = projects["project_id"].astype(str)
    made = "R" + projects["row"].astype(str)
    base = ids.str.replace(r"-\d+$", "", regex=True)  # "R12-2" → "R12"
    return (ids == made) | (base == made)


def _park_key(projects: pd.DataFrame) -> pd.Series:
    declared = projects["park_declared"].astype(str).str.strip()
    return declared.where(declared != "", "@" + projects["park_id"].astype(str))


def _name_key(projects: pd.DataFrame) -> pd.Series:
    return projects["name"].astype(str).str.strip() + "\x1f" + _park_key(projects)


def _pair(
    old_keys: pd.Series, new_keys: pd.Series, what: str, warnings: list[str]
) -> list[tuple[int, int]]:
    """Pairs of (old position, new position) with equal keys; a repeated key pairs in order.

    A key repeated on one side and present on the other is ambiguous: a warning names it.
    """
    for side, keys, other in (("old", old_keys, new_keys), ("new", new_keys, old_keys)):
        repeated = keys[keys.duplicated(keep=False) & keys.isin(set(other))]
        if len(repeated):
            shown = ", ".join(repr(k.replace("\x1f", " @ ")) for k in repeated.unique()[:5])
            warnings.append(
                f"{side} snapshot: {what} repeated ({shown}); paired with the other snapshot "
                "in row order"
            )
    old = pd.DataFrame({"key": old_keys.to_numpy(), "pos": old_keys.index})
    new = pd.DataFrame({"key": new_keys.to_numpy(), "pos": new_keys.index})
    old["n"] = old.groupby("key").cumcount()
    new["n"] = new.groupby("key").cumcount()
    pairs = old.merge(new, on=["key", "n"], suffixes=("_old", "_new"))
    return list(zip(pairs["pos_old"].tolist(), pairs["pos_new"].tolist(), strict=True))


def match_projects(old: pd.DataFrame, new: pd.DataFrame) -> tuple[pd.DataFrame, MatchReport]:
    """Pair the projects of two snapshots: by ``project_id``, then by name + park.

    Returns
    -------
    pairs, report
        ``pairs`` has ``old`` and ``new`` (row positions, ``-1`` for none) and ``matched_by``
        (``project_id``, ``name+park``, or ``""`` for a new or removed project).
    """
    old = old.reset_index(drop=True)
    new = new.reset_index(drop=True)
    report = MatchReport()
    old_real = ~made_up_ids(old).to_numpy(dtype=bool)
    new_real = ~made_up_ids(new).to_numpy(dtype=bool)
    old_id, new_id = old["project_id"].astype(str), new["project_id"].astype(str)
    by_id = _pair(old_id[old_real], new_id[new_real], "project_id", report.warnings)
    taken_old = {o for o, _ in by_id}
    taken_new = {n for _, n in by_id}
    # name + park, for rows left where at least one side has no id of its own
    # (a row whose id the other side has, but was paired already, is a repeat: left out)
    old_seen = old_real & old_id.isin(set(new_id[new_real])).to_numpy(dtype=bool)
    new_seen = new_real & new_id.isin(set(old_id[old_real])).to_numpy(dtype=bool)
    old_left = [i for i in range(len(old)) if i not in taken_old and not old_seen[i]]
    new_left = [i for i in range(len(new)) if i not in taken_new and not new_seen[i]]
    # two different ids are two projects: a row with an id pairs only with one without
    names_old, names_new = _name_key(old), _name_key(new)
    left_old = [i for i in old_left if not old_real[i]]
    by_name = _pair(
        names_old.iloc[left_old], names_new.iloc[new_left], "name + park", report.warnings
    )
    paired_new = {n for _, n in by_name}
    real_old = [i for i in old_left if old_real[i]]
    open_new = [i for i in new_left if not new_real[i] and i not in paired_new]
    by_name += _pair(
        names_old.iloc[real_old], names_new.iloc[open_new], "name + park", report.warnings
    )
    report.by_id, report.by_name_park = len(by_id), len(by_name)
    used_old = taken_old | {o for o, _ in by_name}
    used_new = taken_new | {n for _, n in by_name}
    removed = [i for i in range(len(old)) if i not in used_old]
    added = [i for i in range(len(new)) if i not in used_new]
    report.new, report.removed = len(added), len(removed)
    rows = (
        [(o, n, "project_id") for o, n in by_id]
        + [(o, n, "name+park") for o, n in by_name]
        + [(-1, n, "") for n in added]
        + [(o, -1, "") for o in removed]
    )
    pairs = pd.DataFrame(rows, columns=["old", "new", "matched_by"])
    return pairs.astype({"old": int, "new": int}), report


def _amount(value: object) -> float:
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return float("nan")
    return round(x, INVESTMENT_DECIMALS) if np.isfinite(x) else float("nan")


def amount_text(value: object) -> str:
    """An amount in 亿元 as ``before``/``after`` show it: up to 8 decimals, no trailing zeros;
    ``unknown`` for no amount."""
    x = _amount(value)
    if np.isnan(x):
        return UNKNOWN
    text = f"{x:.{INVESTMENT_DECIMALS}f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _amounts(values: pd.Series) -> np.ndarray:
    """Amounts in 亿元 rounded to :data:`INVESTMENT_DECIMALS`, NaN where unknown."""
    x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return np.round(x, INVESTMENT_DECIMALS)


def _statuses(values: pd.Series) -> np.ndarray:
    """Statuses as ``before``/``after`` show them: a stage of :data:`STATUS_ORDER`, or
    ``unknown``."""
    text = values.astype(object).to_numpy(dtype=object)
    return np.array([v if v in STATUS_ORDER else UNKNOWN for v in text], dtype=object)


def _points(lon: np.ndarray, lat: np.ndarray, where: np.ndarray) -> np.ndarray:
    """``"lon,lat"`` (6 decimals, about 0.1 m) at the positions of ``where``, else ``""``."""
    out = np.full(len(lon), "", dtype=object)
    for i in np.flatnonzero(where):
        out[i] = f"{lon[i]:.6f},{lat[i]:.6f}"
    return out


def _pick(value: object, mask: np.ndarray) -> object:
    """``value[mask]`` for an array, ``value`` itself for a scalar."""
    return value[mask] if isinstance(value, np.ndarray) else value


def compare_snapshots(
    old: pd.DataFrame, new: pd.DataFrame, parks: pd.DataFrame, *, lang: str = "zh"
) -> Comparison:
    """Compare two analysed snapshots of the ledger.

    Parameters
    ----------
    old, new
        Projects of each snapshot as :func:`parkmap.pipeline.analyse` returns them (columns
        ``row, project_id, name, park_declared, status, investment_100m_cny, lon, lat,
        park_id, park_ids``).
    parks
        The park layer (``park_id`` and the name fields); ``park_changes`` has one row per park,
        in its order.
    lang
        Language of the park names in the park table.

    Returns
    -------
    Comparison
    """
    old = old.reset_index(drop=True)
    new = new.reset_index(drop=True)
    pairs, report = match_projects(old, new)
    matched = pairs[(pairs["old"] >= 0) & (pairs["new"] >= 0)]
    o = old.iloc[matched["old"].to_numpy()].reset_index(drop=True)
    n = new.iloc[matched["new"].to_numpy()].reset_index(drop=True)
    how = matched["matched_by"].to_numpy(dtype=object)
    parts: list[pd.DataFrame] = []

    def add(
        side: pd.DataFrame,
        mask: np.ndarray,
        change: str,
        before: object,
        after: object,
        **extra: object,
    ) -> None:
        if not mask.any():
            return
        rows = side[mask]
        frame = pd.DataFrame(
            {
                "project_id": rows["project_id"].astype(str).to_numpy(dtype=object),
                "name": rows["name"].astype(str).to_numpy(dtype=object),
                "park_id": rows["park_id"].astype(str).to_numpy(dtype=object),
                "change": change,
                "before": _pick(before, mask),
                "after": _pick(after, mask),
                "step": _pick(extra.get("step", ""), mask),
                "distance_m": _pick(extra.get("distance_m", np.nan), mask),
                "investment_100m_cny": _amounts(rows["investment_100m_cny"]),
                "matched_by": _pick(extra.get("matched_by", ""), mask),
                "lon": pd.to_numeric(rows["lon"], errors="coerce").to_numpy(dtype=float),
                "lat": pd.to_numeric(rows["lat"], errors="coerce").to_numpy(dtype=float),
            }
        )
        parts.append(frame)

    lon0, lat0 = o["lon"].to_numpy(dtype=float), o["lat"].to_numpy(dtype=float)
    lon1, lat1 = n["lon"].to_numpy(dtype=float), n["lat"].to_numpy(dtype=float)
    dist = _GEOD.inv(lon0, lat0, lon1, lat1)[2] if len(o) else np.array([], dtype=float)
    dist = np.asarray(dist, dtype=float)
    rank0, rank1 = status_rank(o["status"]), status_rank(n["status"])
    steps = np.full(len(o), "", dtype=object)
    known = (rank0.notna() & rank1.notna()).to_numpy()
    steps[known & (rank1 > rank0).to_numpy()] = "up"
    steps[known & (rank1 < rank0).to_numpy()] = "back"
    s0, s1 = _statuses(o["status"]), _statuses(n["status"])
    add(n, s0 != s1, "status", s0, s1, step=steps, matched_by=how)
    x0, x1 = _amounts(o["investment_100m_cny"]), _amounts(n["investment_100m_cny"])
    same = (x0 == x1) | (np.isnan(x0) & np.isnan(x1))
    texts0, texts1 = np.full(len(o), "", dtype=object), np.full(len(o), "", dtype=object)
    for i in np.flatnonzero(~same):  # only the amounts that changed are written out
        texts0[i], texts1[i] = amount_text(x0[i]), amount_text(x1[i])
    add(n, ~same, "investment", texts0, texts1, matched_by=how)
    moved = np.isfinite(dist) & (dist > MOVE_THRESHOLD_M)
    add(
        n,
        moved,
        "moved",
        _points(lon0, lat0, moved),
        _points(lon1, lat1, moved),
        distance_m=np.round(dist, 1),
        matched_by=how,
    )
    names0 = o["name"].astype(str).to_numpy(dtype=object)
    names1 = n["name"].astype(str).to_numpy(dtype=object)
    add(n, names0 != names1, "renamed", names0, names1, matched_by=how)
    parks0 = o["park_id"].astype(str).to_numpy(dtype=object)
    parks1 = n["park_id"].astype(str).to_numpy(dtype=object)
    add(n, parks0 != parks1, "park", parks0, parks1, matched_by=how)
    added = new.iloc[pairs.loc[pairs["old"] < 0, "new"].to_numpy()]
    add(added, np.ones(len(added), dtype=bool), "new", "", _statuses(added["status"]))
    gone = old.iloc[pairs.loc[pairs["new"] < 0, "old"].to_numpy()]
    add(gone, np.ones(len(gone), dtype=bool), "removed", _statuses(gone["status"]), "")
    empty = pd.DataFrame({c: pd.Series(dtype=object) for c in CHANGE_COLUMNS})
    rows = pd.concat([empty, *parts], ignore_index=True) if parts else empty
    changes = rows[CHANGE_COLUMNS]
    order = {k: i for i, k in enumerate(CHANGE_KINDS)}
    changes = (
        changes.assign(_k=changes["change"].map(order))
        .sort_values(["_k", "park_id", "project_id"], kind="stable")
        .drop(columns="_k")
        .reset_index(drop=True)
    )
    for column in ("distance_m", "investment_100m_cny", "lon", "lat"):
        changes[column] = changes[column].astype(float)
    park_table = park_changes(old, new, changes, parks, lang=lang)
    return Comparison(changes, park_table, headline(old, new, changes, park_table), report)


def _members(projects: pd.DataFrame) -> pd.DataFrame:
    """One row per (project, park its point lies in): ``park``, ``inv``."""
    ids = projects["park_ids"].astype(str).str.split(";")
    frame = pd.DataFrame(
        {"park": ids, "inv": pd.to_numeric(projects["investment_100m_cny"], errors="coerce")}
    ).explode("park")
    return frame[frame["park"].astype(str) != ""]


def _rank(investment: pd.Series) -> pd.Series:
    return investment.rank(ascending=False, method="min").astype("Int64")


def park_changes(
    old: pd.DataFrame,
    new: pd.DataFrame,
    changes: pd.DataFrame,
    parks: pd.DataFrame,
    *,
    lang: str = "zh",
) -> pd.DataFrame:
    """The per-park table of :func:`compare_snapshots` (:data:`PARK_CHANGE_COLUMNS`)."""
    ids = parks["park_id"].astype(str).tolist()
    names = [park_name(row, lang) for _, row in parks.iterrows()]
    table = pd.DataFrame({"park_id": ids, "name": names})
    for label, frame in (("before", old), ("after", new)):
        members = _members(frame)
        grouped = members.groupby("park")
        count = grouped.size().reindex(ids, fill_value=0)
        invest = grouped["inv"].sum(min_count=1).reindex(ids)
        # a park with projects of which none gives an amount: unknown, not 0; none at all: 0
        invest = invest.where(count > 0, 0.0)
        table[f"projects_{label}"] = count.to_numpy(dtype=int)
        table[f"investment_{label}_100m_cny"] = invest.round(INVESTMENT_DECIMALS).to_numpy()
    table["investment_change_100m_cny"] = (
        table["investment_after_100m_cny"] - table["investment_before_100m_cny"]
    ).round(INVESTMENT_DECIMALS)
    # new projects and status steps, in every park the new point lies in
    new_ids = new.assign(_park_ids=new["park_ids"].astype(str))
    where = dict(zip(new_ids["project_id"].astype(str), new_ids["_park_ids"], strict=False))
    old_where = dict(zip(old["project_id"].astype(str), old["park_ids"].astype(str), strict=False))

    def tally(kind: str, step: str | None = None, side: dict[str, str] = where) -> pd.DataFrame:
        rows = changes[changes["change"] == kind]
        if step is not None:
            rows = rows[rows["step"] == step]
        parks_of = rows["project_id"].astype(str).map(side).fillna("").str.split(";")
        frame = pd.DataFrame(
            {"park": parks_of, "inv": rows["investment_100m_cny"].to_numpy()}
        ).explode("park")
        return frame[frame["park"] != ""]

    added = tally("new")
    table["new_projects"] = added.groupby("park").size().reindex(ids, fill_value=0).to_numpy()
    table["new_investment_100m_cny"] = (
        added.groupby("park")["inv"].sum().reindex(ids, fill_value=0.0).round(8).to_numpy()
    )
    gone = tally("removed", side=old_where)
    table["removed_projects"] = gone.groupby("park").size().reindex(ids, fill_value=0).to_numpy()
    for column, step in (("step_ups", "up"), ("step_backs", "back")):
        stepped = tally("status", step)
        table[column] = stepped.groupby("park").size().reindex(ids, fill_value=0).to_numpy()
    table["rank_before"] = _rank(table["investment_before_100m_cny"]).to_numpy()
    table["rank_after"] = _rank(table["investment_after_100m_cny"]).to_numpy()
    return table[PARK_CHANGE_COLUMNS]


def no_progress(parks: pd.DataFrame) -> pd.Series:
    """Parks with no progress: no new project, no status step-up and no investment added."""
    gained = parks["investment_change_100m_cny"].fillna(0) > 0
    return (parks["new_projects"] == 0) & (parks["step_ups"] == 0) & ~gained


def headline(
    old: pd.DataFrame, new: pd.DataFrame, changes: pd.DataFrame, parks: pd.DataFrame
) -> dict[str, float]:
    """The citywide figures of :class:`Comparison`."""

    def total(frame: pd.DataFrame) -> float:
        amounts = pd.to_numeric(frame["investment_100m_cny"], errors="coerce")
        return round(float(amounts.sum()), INVESTMENT_DECIMALS) if amounts.notna().any() else np.nan

    kinds = changes["change"]
    added = changes[kinds == "new"]
    return {
        "projects_before": len(old),
        "projects_after": len(new),
        "investment_before": total(old),
        "investment_after": total(new),
        "new_projects": len(added),
        "new_investment": round(float(added["investment_100m_cny"].sum()), INVESTMENT_DECIMALS),
        "removed_projects": int((kinds == "removed").sum()),
        "step_ups": int(((kinds == "status") & (changes["step"] == "up")).sum()),
        "step_backs": int(((kinds == "status") & (changes["step"] == "back")).sum()),
        "parks_without_progress": int(no_progress(parks).sum()),
    }


def map_changes(changes: pd.DataFrame) -> pd.DataFrame:
    """The changes the change map draws: ``kind`` (``new``, ``up``, ``back``, ``removed``) with
    ``project_id, name, park_id, before, after, investment_100m_cny, lon, lat``; one row per
    project and kind, in :data:`parkmap.style.CHANGE_SYMBOLS` order."""
    kinds = np.select(
        [
            changes["change"] == "new",
            (changes["change"] == "status") & (changes["step"] == "up"),
            (changes["change"] == "status") & (changes["step"] == "back"),
            changes["change"] == "removed",
        ],
        ["new", "up", "back", "removed"],
        default="",
    )
    drawn = changes.assign(kind=kinds)
    drawn = drawn[drawn["kind"] != ""]
    order = {"new": 0, "up": 1, "back": 2, "removed": 3}
    drawn = drawn.assign(_k=drawn["kind"].map(order)).sort_values("_k", kind="stable")
    return drawn.drop(columns="_k").reset_index(drop=True)[
        [
            "kind",
            "project_id",
            "name",
            "park_id",
            "before",
            "after",
            "investment_100m_cny",
            "lon",
            "lat",
        ]
    ]
