"""PNG plots of Ripley's L with its Monte-Carlo envelope (matplotlib, Agg backend).

Every word on a plot — title, axis labels, legend — is in the report's language (``plot`` words
of :data:`parkmap.i18n.TEXT`); only the statistic's symbols (Ripley, L, d, n) and data names
stay as they are.
"""

from __future__ import annotations

import io as _io
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from parkmap import write
from parkmap.i18n import texts
from parkmap.settings import LANGUAGES

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from parkmap.fonts import FontSetup


def plot_ripley(
    stats: dict,
    path: str | Path,
    *,
    title: str = "",
    lang: str = "zh",
    setup: FontSetup | None = None,
) -> Path | None:
    """Draw ``L(d) − d`` with the envelope of simulated patterns; ``None`` if L was not computed.

    Above the band: more clustered than chance at that distance; below: more dispersed.

    Parameters
    ----------
    stats
        One entry of :attr:`ClusterAnalysis.ripley` (``support_m``, ``l_m``, envelope, ``n``).
    path
        PNG file to write.
    title
        Park name (or the word for "citywide" in ``lang``) for the plot title.
    lang
        Language of the title, axis and legend labels, ``"zh"`` or ``"en"``.
    setup
        Fonts, as for the exports (:func:`parkmap.fonts.font_setup`); chosen for
        ``lang`` when not given.
    """
    if "l_m" not in stats:
        return None
    from parkmap.fonts import font_setup

    setup = setup or font_setup(lang)
    with setup.use():
        fig = ripley_figure(stats, title=title, lang=lang, setup=setup)
        buffer = _io.BytesIO()
        fig.savefig(buffer, format="png")
    return write.atomic_write(path, buffer.getvalue())


def ripley_figure(stats: dict, *, title: str, lang: str, setup: FontSetup) -> Figure:
    """The figure :func:`plot_ripley` saves; draw and save it inside ``setup.use()``.

    Parameters
    ----------
    stats
        One entry of :attr:`ClusterAnalysis.ripley` with ``l_m``.
    title
        Park name for the title (``""``: none).
    lang
        ``"zh"`` or ``"en"``.
    setup
        Fonts for ``lang``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    t = texts(lang if lang in LANGUAGES else "en", "plot")
    d = np.asarray(stats["support_m"], dtype=float)
    fig = Figure(figsize=(6, 4), dpi=100)
    ax = fig.add_subplot()
    ax.fill_between(
        d,
        np.asarray(stats["lower_m"]) - d,
        np.asarray(stats["upper_m"]) - d,
        color="0.85",
        label=t["ripley_band"],
    )
    ax.plot(d, np.asarray(stats["l_m"]) - d, color="#b2182b", lw=2, label=t["ripley_observed"])
    ax.axhline(0.0, color="0.3", lw=1, ls="--", label=t["ripley_expected"])
    ax.set_xlabel(t["ripley_x"])
    ax.set_ylabel(t["ripley_y"])
    name = setup.safe(title)
    n = stats["n"]
    ax.set_title(
        t["ripley_title"].format(name=name, n=n) if name else t["ripley_title_bare"].format(n=n)
    )
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    return fig
