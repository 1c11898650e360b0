"""One front door to mapclassify: ``classify(values, scheme, k)`` → :class:`Classes`.

Scheme names are matched loosely (case, spaces, ``-`` and ``_`` are ignored), so
``"Natural Breaks"``, ``"natural_breaks"`` and ``"jenks"`` all mean the same thing. The result
never has empty or duplicate classes: when the data have fewer distinct values than ``k``, or ties
make two breaks equal, ``k`` is lowered until every class holds at least one value. Missing values
(NaN) are kept in place and get class ``-1`` (:data:`NO_DATA`). Values marked ``exclude`` (parks
without any project: their density of 0 says "nothing here", not "lowest class") are left out of
the breaks and get class ``-2`` (:data:`NO_PROJECTS`).

Natural breaks are deterministic here. mapclassify's ``NaturalBreaks`` runs k-means from random
starting points, so two runs on the same data can disagree. For up to
:data:`EXACT_NATURAL_BREAKS_MAX_N` values ``classify`` uses ``FisherJenks`` instead (the exact
optimum of the same criterion, no randomness); for larger inputs it runs ``NaturalBreaks`` with
NumPy's global random state seeded to :data:`NATURAL_BREAKS_SEED` and restores that state
afterwards.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from parkmap.errors import UsageError

#: ColorBrewer sequential palette used for the classes.
PALETTE = "YlOrRd"

#: Largest input for which natural breaks are computed exactly with Fisher–Jenks.
EXACT_NATURAL_BREAKS_MAX_N = 500

#: Seed for mapclassify's k-means natural breaks on larger inputs.
NATURAL_BREAKS_SEED = 0

#: Canonical scheme name → (mapclassify class name, takes ``k``).
SCHEMES: dict[str, tuple[str, bool]] = {
    "quantiles": ("Quantiles", True),
    "equal_interval": ("EqualInterval", True),
    "natural_breaks": ("NaturalBreaks", True),
    "fisher_jenks": ("FisherJenks", True),
    "jenks_caspall": ("JenksCaspall", True),
    "maximum_breaks": ("MaximumBreaks", True),
    "box_plot": ("BoxPlot", False),
    "headtail_breaks": ("HeadTailBreaks", False),
    "percentiles": ("Percentiles", False),
    "std_mean": ("StdMean", False),
}

#: Class of a value that is missing (NaN).
NO_DATA = -1
#: Class of a value left out of the classification with ``exclude`` (a park with no project).
NO_PROJECTS = -2

_ALIASES = {"jenks": "natural_breaks", "max_breaks": "maximum_breaks"}


def _squash(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch not in " -_")


_LOOKUP = {_squash(key): key for key in [*SCHEMES, *_ALIASES]}


def scheme_key(scheme: str) -> str:
    """Return the canonical name of a classification scheme.

    Parameters
    ----------
    scheme
        Any spelling: case, spaces, ``-`` and ``_`` do not matter; ``"jenks"`` means natural breaks
        and ``"max_breaks"`` maximum breaks.

    Returns
    -------
    str
        One of the keys of :data:`SCHEMES`.

    Raises
    ------
    UsageError
        When the name matches no scheme; the message lists the valid choices.
    """
    key = _LOOKUP.get(_squash(str(scheme)))
    if key is None:
        choices = ", ".join(SCHEMES)
        raise UsageError(f"unknown classification scheme {scheme!r}; choose one of: {choices}")
    return _ALIASES.get(key, key)


def class_colors(n: int, palette: str = PALETTE) -> list[str]:
    """Return ``n`` hex colours from a ColorBrewer sequential palette, light to dark.

    ColorBrewer series start at three colours; for one class the middle colour of the three-colour
    series is used, for two classes its ends.
    """
    from branca.utilities import color_brewer

    if n <= 0:
        return []
    if n < 3:
        three = color_brewer(palette, 3)
        return [three[1]] if n == 1 else [three[0], three[2]]
    return list(color_brewer(palette, n))


@dataclass(frozen=True)
class Classes:
    """The result of :func:`classify`.

    Attributes
    ----------
    bins
        Upper bound of each class (inclusive), ascending.
    lower
        Lower bound of each class: the minimum of the data for class 0, else the previous upper
        bound (exclusive).
    yb
        Class index per input value, ``-1`` (:data:`NO_DATA`) where the value is NaN, ``-2``
        (:data:`NO_PROJECTS`) where it was excluded.
    colors
        Hex colour per class (ColorBrewer YlOrRd, light to dark).
    scheme_name
        Canonical scheme name, e.g. ``"quantiles"``.
    counts
        Number of values in each class.
    """

    bins: list[float]
    lower: list[float]
    yb: np.ndarray
    colors: list[str]
    scheme_name: str
    counts: list[int] = field(default_factory=list)

    @property
    def k(self) -> int:
        """Number of classes."""
        return len(self.bins)

    def labels(self, fmt: str | Callable[[float], str] = "{:.2f}") -> list[str]:
        """Return one range label per class, e.g. ``"0.00 – 1.25"``.

        Parameters
        ----------
        fmt
            A :meth:`str.format` pattern with one field, or a function, applied to each bound.
        """
        show = fmt if callable(fmt) else fmt.format
        return [f"{show(lo)} – {show(hi)}" for lo, hi in zip(self.lower, self.bins, strict=True)]

    def color_of(self, cls: int, missing: str = "#cccccc", empty: str | None = None) -> str:
        """Return the colour of class ``cls``: ``missing`` for ``-1``, ``empty`` for ``-2``.

        ``empty`` defaults to ``missing``.
        """
        if 0 <= cls < len(self.colors):
            return self.colors[cls]
        if cls == NO_PROJECTS and empty is not None:
            return empty
        return missing


def _quantile_bins(y: np.ndarray, k: int) -> np.ndarray:
    # The same arithmetic as mapclassify.Quantiles (linear interpolation, ties collapsed).
    w = 100.0 / k
    p = np.arange(w, 100 + w, w)
    p[-1] = min(p[-1], 100.0)
    return np.unique(np.percentile(y, p))


def _equal_interval_bins(y: np.ndarray, k: int) -> np.ndarray:
    # The same arithmetic as mapclassify.EqualInterval (last break set to the maximum).
    lo, hi = float(np.min(y)), float(np.max(y))
    width = (hi - lo) / k
    cuts = np.arange(lo + width, hi + width, width)[:k]
    cuts[-1] = hi
    return cuts


#: Schemes computed here with mapclassify's own arithmetic: importing mapclassify pulls in
#: scipy.stats and scikit-learn (about 1.5 s), which would dominate a small build. The tests
#: compare these with mapclassify.
_NUMPY_SCHEMES: dict[str, Callable[[np.ndarray, int], np.ndarray]] = {
    "Quantiles": _quantile_bins,
    "EqualInterval": _equal_interval_bins,
}


def _run(name: str, takes_k: bool, y: np.ndarray, k: int) -> Any:
    if name in _NUMPY_SCHEMES:
        return SimpleNamespace(bins=_NUMPY_SCHEMES[name](y, k))
    import mapclassify

    cls = getattr(mapclassify, name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if name == "NaturalBreaks":
            state = np.random.get_state()
            np.random.seed(NATURAL_BREAKS_SEED)
            try:
                return cls(y, k=k)
            finally:
                np.random.set_state(state)
        return cls(y, k=k) if takes_k else cls(y)


def _usable(bins: np.ndarray, y: np.ndarray) -> bool:
    """True when the breaks are strictly increasing and every class holds a value."""
    if len(bins) == 0 or np.any(np.diff(bins) <= 0):
        return False
    yb = np.searchsorted(bins, y, side="left")
    return bool(np.all(yb < len(bins))) and len(np.unique(yb)) == len(bins)


def _drop_empty(bins: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Merge empty classes into the next one (the values keep their class bounds)."""
    bins = np.unique(bins)
    bins = bins[bins >= y.min()]
    if len(bins) == 0 or bins[-1] < y.max():
        bins = np.append(bins, y.max())
    counts = np.bincount(np.searchsorted(bins, y, side="left"), minlength=len(bins))
    return bins[counts > 0]


def classify(
    values: ArrayLike,
    scheme: str = "quantiles",
    k: int = 5,
    *,
    exclude: ArrayLike | None = None,
) -> Classes:
    """Classify values for a choropleth map with mapclassify.

    Parameters
    ----------
    values
        Numbers to classify; NaN (or None) is allowed and gets class ``-1``.
    scheme
        Scheme name, matched loosely (see :func:`scheme_key`).
    k
        Wanted number of classes for the schemes that take one; lowered when the data cannot
        fill ``k`` distinct, non-empty classes. Ignored by ``box_plot``, ``headtail_breaks``,
        ``percentiles`` and ``std_mean``.
    exclude
        Optional booleans, one per value: these are left out of the breaks and the counts and
        get class :data:`NO_PROJECTS` (``-2``), e.g. parks with no project.

    Returns
    -------
    Classes
        Breaks, class per value, colours and labels.

    Raises
    ------
    UsageError
        For an unknown scheme or ``k < 1``.
    """
    key = scheme_key(scheme)
    if int(k) != k or k < 1:
        raise UsageError(f"the number of classes k must be a positive integer, not {k!r}")
    k = int(k)
    arr = np.asarray(values, dtype=float).ravel()
    finite = np.isfinite(arr)
    yb = np.full(arr.shape, NO_DATA, dtype=int)
    if exclude is not None:
        left_out = np.asarray(exclude, dtype=bool).ravel()
        if left_out.shape != arr.shape:
            raise UsageError("exclude must hold one boolean per value")
        yb[left_out] = NO_PROJECTS
        finite &= ~left_out
    y = arr[finite]
    if y.size == 0:
        return Classes([], [], yb, [], key, [])

    bins = _breaks(key, y, k)
    cls = np.searchsorted(bins, y, side="left")
    yb[finite] = cls
    lower = [float(y.min()), *(float(b) for b in bins[:-1])]
    counts = np.bincount(cls, minlength=len(bins)).tolist()
    return Classes(
        bins=[float(b) for b in bins],
        lower=lower,
        yb=yb,
        colors=class_colors(len(bins)),
        scheme_name=key,
        counts=[int(c) for c in counts],
    )


def _distinct_quantiles(y: np.ndarray, k: int) -> bool:
    return len(np.unique(np.percentile(y, np.linspace(100 / k, 100, k)))) == k


def _breaks(key: str, y: np.ndarray, k: int) -> np.ndarray:
    distinct = np.unique(y)
    if len(distinct) == 1:
        return distinct.copy()
    name, takes_k = SCHEMES[key]
    if name == "NaturalBreaks" and len(y) <= EXACT_NATURAL_BREAKS_MAX_N:
        name = "FisherJenks"
    if not takes_k:
        return _drop_empty(np.asarray(_run(name, False, y, k).bins, dtype=float), y)
    bins = np.asarray([], dtype=float)
    for kk in range(min(k, len(distinct)), 1, -1):
        if name == "JenksCaspall" and not _distinct_quantiles(y, kk):
            # JenksCaspall starts from quantiles; with tied quantiles a class starts empty and
            # mapclassify's iteration never ends.
            continue
        bins = np.asarray(_run(name, True, y, kk).bins, dtype=float)
        if _usable(bins, y):
            return bins
    return _drop_empty(bins, y) if len(bins) else np.asarray([y.max()])


__all__ = [
    "NO_DATA",
    "NO_PROJECTS",
    "SCHEMES",
    "Classes",
    "class_colors",
    "classify",
    "scheme_key",
]
