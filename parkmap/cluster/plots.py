"""PNG plots of Ripley's L with its Monte-Carlo envelope (matplotlib, Agg backend)."""

from __future__ import annotations

import io as _io
from pathlib import Path

import numpy as np

from parkmap import io

_LABELS = {
    "zh": ("距离 d（米）", "L(d) − d（米）", "模拟包络", "观测", "随机期望"),
    "en": (
        "distance d (m)",
        "L(d) − d (m)",
        "simulation envelope",
        "observed",
        "random (expected)",
    ),
}


def plot_ripley(stats: dict, path: str | Path, *, title: str = "", lang: str = "zh") -> Path | None:
    """Draw ``L(d) − d`` with the envelope of simulated patterns; ``None`` if L was not computed.

    Above the band: more clustered than chance at that distance; below: more dispersed.
    """
    if "l_m" not in stats:
        return None
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager
    from matplotlib.figure import Figure

    xlabel, ylabel, band, observed, expected = _LABELS.get(lang, _LABELS["en"])
    d = np.asarray(stats["support_m"], dtype=float)
    fig = Figure(figsize=(6, 4), dpi=100)
    ax = fig.add_subplot()
    cjk = [f.name for f in font_manager.fontManager.ttflist if "CJK" in f.name]
    if cjk:
        for item in (ax.title, ax.xaxis.label, ax.yaxis.label):
            item.set_fontfamily([cjk[0], "DejaVu Sans"])
    ax.fill_between(
        d,
        np.asarray(stats["lower_m"]) - d,
        np.asarray(stats["upper_m"]) - d,
        color="0.85",
        label=band,
    )
    ax.plot(d, np.asarray(stats["l_m"]) - d, color="#b2182b", lw=2, label=observed)
    ax.axhline(0.0, color="0.3", lw=1, ls="--", label=expected)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(f"Ripley L — {title} (n = {stats['n']})")
    legend = ax.legend(loc="best", fontsize=8)
    if cjk:
        for text in legend.get_texts():
            text.set_fontfamily([cjk[0], "DejaVu Sans"])
    fig.tight_layout()
    buffer = _io.BytesIO()
    fig.savefig(buffer, format="png")
    return io.atomic_write(path, buffer.getvalue())
