"""Tests for parkmap.classes: hand-worked breaks and agreement with mapclassify called directly."""

from __future__ import annotations

import warnings

import mapclassify
import numpy as np
import pytest
from branca.utilities import color_brewer

from parkmap.classes import SCHEMES, classify, scheme_key
from parkmap.errors import UsageError


def test_quantiles_hand_worked():
    # 1..10, k=5: percentiles 20, 40, ... with linear interpolation at (n-1)·p = 9·p
    # 20 % → 1 + 1.8 = 2.8, 40 % → 4.6, 60 % → 6.4, 80 % → 8.2, 100 % → 10
    c = classify(np.arange(1, 11), "quantiles", 5)
    assert c.bins == pytest.approx([2.8, 4.6, 6.4, 8.2, 10.0])
    assert c.lower == pytest.approx([1.0, 2.8, 4.6, 6.4, 8.2])
    assert c.yb.tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
    assert c.counts == [2, 2, 2, 2, 2]
    assert c.labels() == [
        "1.00 – 2.80",
        "2.80 – 4.60",
        "4.60 – 6.40",
        "6.40 – 8.20",
        "8.20 – 10.00",
    ]
    assert c.scheme_name == "quantiles"


def test_equal_interval_hand_worked():
    # range 0–10 in 4 classes of width 2.5; upper bounds are inclusive
    c = classify([0, 1, 2.5, 5, 7.5, 10], "equal_interval", 4)
    assert c.bins == pytest.approx([2.5, 5.0, 7.5, 10.0])
    assert c.yb.tolist() == [0, 0, 0, 1, 2, 3]
    assert c.labels("{:.1f}") == ["0.0 – 2.5", "2.5 – 5.0", "5.0 – 7.5", "7.5 – 10.0"]


def test_nan_gets_class_minus_one_and_is_ignored():
    c = classify([np.nan, 1.0, 2.0, 3.0, None, 4.0], "equal_interval", 2)
    # min 1, max 4 → width 1.5 → bins 2.5, 4
    assert c.bins == pytest.approx([2.5, 4.0])
    assert c.yb.tolist() == [-1, 0, 0, 1, -1, 1]


def test_all_missing_gives_no_classes():
    c = classify([np.nan, np.nan], "quantiles", 5)
    assert c.k == 0
    assert c.yb.tolist() == [-1, -1]
    assert c.labels() == []
    assert c.colors == []


def test_single_value_one_class():
    c = classify([3.0, 3.0, 3.0], "natural_breaks", 5)
    assert c.bins == [3.0]
    assert c.yb.tolist() == [0, 0, 0]
    assert c.labels() == ["3.00 – 3.00"]
    assert len(c.colors) == 1


def test_fewer_distinct_values_than_k():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        c = classify([1, 1, 1, 2, 2], "quantiles", 5)
    # two distinct values → two quantile classes: median 1, max 2
    assert c.bins == [1.0, 2.0]
    assert c.yb.tolist() == [0, 0, 0, 1, 1]


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_ties_never_give_empty_or_duplicate_classes(scheme):
    y = np.array([0, 0, 0, 0, 0, 0, 1, 1, 2, 50], dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no mapclassify warning may leak
        c = classify(y, scheme, 5)
    assert np.all(np.diff(c.bins) > 0)
    assert min(c.counts) >= 1
    assert sum(c.counts) == len(y)
    assert c.bins[-1] == 50
    assert len(c.colors) == c.k == len(c.labels())
    # every value lies inside its class range
    for value, cls in zip(y, c.yb, strict=True):
        assert c.lower[cls] <= value <= c.bins[cls]


@pytest.mark.parametrize(
    ("scheme", "cls"),
    [
        ("quantiles", "Quantiles"),
        ("equal_interval", "EqualInterval"),
        ("fisher_jenks", "FisherJenks"),
        ("jenks_caspall", "JenksCaspall"),
        ("maximum_breaks", "MaximumBreaks"),
    ],
)
def test_k_schemes_match_mapclassify(scheme, cls):
    y = np.random.default_rng(42).uniform(0, 100, 60)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # FisherJenks warns when numba is missing
        direct = getattr(mapclassify, cls)(y, k=5)
    assert min(direct.counts) > 0  # precondition: nothing to merge
    c = classify(y, scheme, 5)
    np.testing.assert_allclose(c.bins, direct.bins)
    assert c.yb.tolist() == direct.yb.tolist()


@pytest.mark.parametrize(
    ("scheme", "cls"),
    [
        ("box_plot", "BoxPlot"),
        ("headtail_breaks", "HeadTailBreaks"),
        ("percentiles", "Percentiles"),
        ("std_mean", "StdMean"),
    ],
)
def test_schemes_without_k_match_mapclassify_minus_empty_classes(scheme, cls):
    y = np.random.default_rng(7).lognormal(1.0, 1.0, 80)
    direct = getattr(mapclassify, cls)(y)
    counts = np.asarray(direct.counts)
    expected = np.asarray(direct.bins)[counts > 0]
    c = classify(y, scheme)
    np.testing.assert_allclose(c.bins, expected)
    assert c.counts == counts[counts > 0].tolist()


def test_natural_breaks_small_n_is_fisher_jenks_and_deterministic():
    y = np.random.default_rng(3).lognormal(0.0, 1.0, 50)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exact = mapclassify.FisherJenks(y, k=4)
    first = classify(y, "natural_breaks", 4)
    second = classify(y, "jenks", 4)
    np.testing.assert_allclose(first.bins, exact.bins)
    assert first.bins == second.bins
    assert first.yb.tolist() == exact.yb.tolist()


def test_natural_breaks_large_n_is_seeded_and_restores_rng():
    y = np.random.default_rng(5).lognormal(0.0, 1.0, 800)
    np.random.seed(0)
    direct = mapclassify.NaturalBreaks(y, k=5)
    np.random.seed(1234)
    before = np.random.get_state()[1].copy()
    c = classify(y, "naturalbreaks", 5)
    after = np.random.get_state()[1]
    np.testing.assert_array_equal(before, after)
    np.testing.assert_allclose(c.bins, direct.bins)
    assert classify(y, "natural_breaks", 5).bins == c.bins


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Natural Breaks", "natural_breaks"),
        ("NATURAL-BREAKS", "natural_breaks"),
        ("naturalbreaks", "natural_breaks"),
        ("jenks", "natural_breaks"),
        ("Quantiles", "quantiles"),
        ("equal interval", "equal_interval"),
        ("Fisher_Jenks", "fisher_jenks"),
        ("jenks-caspall", "jenks_caspall"),
        ("max_breaks", "maximum_breaks"),
        ("Maximum Breaks", "maximum_breaks"),
        ("boxplot", "box_plot"),
        ("HeadTail_Breaks", "headtail_breaks"),
        ("percentiles", "percentiles"),
        ("std mean", "std_mean"),
    ],
)
def test_scheme_names_match_loosely(name, key):
    assert scheme_key(name) == key
    assert classify([1, 2, 3, 4, 5, 6], name, 3).scheme_name == key


def test_unknown_scheme_lists_choices():
    with pytest.raises(UsageError) as err:
        classify([1, 2, 3], "kmeans")
    message = str(err.value)
    assert "kmeans" in message
    for key in SCHEMES:
        assert key in message
    assert isinstance(err.value, ValueError)


@pytest.mark.parametrize("k", [0, -2, 2.5])
def test_bad_k(k):
    with pytest.raises(UsageError):
        classify([1, 2, 3], "quantiles", k)


def test_colors_are_colorbrewer_ylorrd():
    assert classify(np.arange(20), "quantiles", 5).colors == color_brewer("YlOrRd", 5)
    assert classify(np.arange(20), "quantiles", 7).colors == color_brewer("YlOrRd", 7)
    two = classify([1, 2], "quantiles", 5).colors
    three = color_brewer("YlOrRd", 3)
    assert two == [three[0], three[2]]
    assert classify([1, 1], "quantiles", 5).colors == [three[1]]


def test_labels_with_callable():
    c = classify([0, 10], "equal_interval", 2)
    assert c.labels(lambda x: f"{x:g}") == ["0 – 5", "5 – 10"]
    assert c.color_of(-1) == "#cccccc"
    assert c.color_of(1) == c.colors[1]


@pytest.mark.parametrize("k", [2, 3, 5, 7, 9])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_numpy_schemes_equal_mapclassify_exactly(k, seed):
    """Quantiles and equal interval are computed without importing mapclassify: same breaks."""
    from parkmap.classes import _equal_interval_bins, _quantile_bins

    rng = np.random.default_rng(seed)
    y = np.round(rng.lognormal(1, 1, 37), 1)  # skewed, with ties
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # Equal up to the last bit of float rounding (numpy vs scipy percentile code paths).
        q = mapclassify.Quantiles(y, k=k).bins
        np.testing.assert_allclose(_quantile_bins(y, k), q, rtol=1e-13, atol=0)
        e = mapclassify.EqualInterval(y, k=k).bins
        np.testing.assert_allclose(_equal_interval_bins(y, k), e, rtol=1e-13, atol=0)
