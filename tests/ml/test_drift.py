"""ml.drift: KS and PSI against scipy and known values, error rates, input checks."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import stats

from ml.drift import MIN_ROWS, DriftReference, adjust_p_values, compute_drift


def _names(k: int) -> list[str]:
    return [f"f{i}" for i in range(k)]


@pytest.mark.parametrize(
    ("n_ref", "n_cur", "shift"),
    [(100, 50, 0.0), (1_000, 3_000, 0.1), (37, 20, 0.5), (20, 500, -0.2), (5_000, 5_000, 0.05)],
)
def test_ks_matches_scipy_on_fixed_samples(n_ref, n_cur, shift):
    rng = np.random.default_rng(n_ref + n_cur)
    ref = rng.normal(size=(n_ref, 4))
    cur = rng.normal(shift, size=(n_cur, 4))
    # Columns 2 and 3 are discrete, so both samples share many tied values.
    ref[:, 2], cur[:, 2] = np.round(ref[:, 2]), np.round(cur[:, 2])
    ref[:, 3], cur[:, 3] = rng.integers(0, 3, n_ref), rng.integers(0, 3, n_cur)
    report = compute_drift(ref, cur, _names(4), categorical=())
    for j, feature in enumerate(report.features):
        asymp = stats.ks_2samp(ref[:, j], cur[:, j], method="asymp")
        default = stats.ks_2samp(ref[:, j], cur[:, j])
        assert feature.ks_statistic == pytest.approx(asymp.statistic, abs=1e-12)
        assert feature.ks_statistic == pytest.approx(default.statistic, abs=1e-12)
        assert feature.p_value == pytest.approx(asymp.pvalue, rel=1e-9, abs=1e-15)


@settings(max_examples=60, deadline=None)
@given(
    ref=arrays(np.float64, st.tuples(st.integers(MIN_ROWS, 80), st.integers(1, 3)),
               elements=st.integers(-5, 5).map(float)),
    n_cur=st.integers(MIN_ROWS, 80),
    seed=st.integers(0, 2**16),
)
def test_ks_statistic_equals_scipy_for_arbitrary_tied_samples(ref, n_cur, seed):
    rng = np.random.default_rng(seed)
    cur = rng.integers(-6, 7, size=(n_cur, ref.shape[1])).astype(np.float64)
    report = compute_drift(ref, cur, _names(ref.shape[1]), psi_threshold=math.inf, categorical=())
    for j, feature in enumerate(report.features):
        expected = stats.ks_2samp(ref[:, j], cur[:, j], method="asymp")
        assert feature.ks_statistic == pytest.approx(expected.statistic, abs=1e-12)
        assert feature.p_value == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-15)


def test_bh_matches_scipy_and_bonferroni_scales_by_feature_count():
    p = np.random.default_rng(0).random(25) ** 3
    np.testing.assert_allclose(adjust_p_values(p, "bh"), stats.false_discovery_control(p, method="bh"))
    np.testing.assert_allclose(adjust_p_values(p, "bonferroni"), np.minimum(p * 25, 1.0))
    np.testing.assert_array_equal(adjust_p_values(p, "none"), p)
    with pytest.raises(ValueError, match="correction must be one of bh, bonferroni, none; got 'holm'"):
        adjust_p_values(p, "holm")


def test_psi_two_bins_known_value():
    # Reference split 50/50 at its median; current 90/10: PSI = 0.4 ln(1.8) + 0.4 ln(5).
    ref = np.repeat([[0.0], [1.0]], 100, axis=0)
    cur = np.repeat([[0.0], [1.0]], [90, 10], axis=0)
    report = compute_drift(ref, cur, ["x"], bins=2)
    assert report.features[0].psi == pytest.approx(0.4 * math.log(1.8) + 0.4 * math.log(5.0), rel=1e-12)
    assert report.features[0].psi == pytest.approx(0.8788898, abs=1e-7)


def test_psi_decile_bins_match_the_formula_and_identical_samples_give_zero():
    ref = np.arange(1_000, dtype=np.float64)[:, None]  # deciles at 100, 200, ... 900
    props = np.array([0.05, 0.05, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.15, 0.15])
    cur = np.concatenate([np.full(int(p * 2_000), 100.0 * b + 50) for b, p in enumerate(props)])[:, None]
    expected = float(np.sum((props - 0.1) * np.log(props / 0.1)))
    assert compute_drift(ref, cur, ["x"]).features[0].psi == pytest.approx(expected, rel=1e-12)
    assert compute_drift(ref, ref.copy(), ["x"]).features[0].psi == 0.0


def test_psi_of_an_empty_bin_is_large_but_finite():
    ref = np.arange(1_000, dtype=np.float64)[:, None]
    cur = np.full((100, 1), 5.0)  # everything in the first decile
    psi = compute_drift(ref, cur, ["x"]).features[0].psi
    assert math.isfinite(psi) and psi > 5


def test_discrete_feature_with_merged_edges():
    rng = np.random.default_rng(5)
    ref = rng.integers(0, 2, size=(2_000, 1)).astype(float)  # about 50% ones
    same = rng.integers(0, 2, size=(2_000, 1)).astype(float)
    skewed = (rng.random((2_000, 1)) < 0.9).astype(float)
    assert compute_drift(ref, same, ["promo"]).features[0].psi < 0.01
    shifted = compute_drift(ref, skewed, ["promo"]).features[0]
    assert shifted.psi > 0.2 and shifted.drifted


def test_detects_the_shifted_feature_only():
    rng = np.random.default_rng(11)
    ref = rng.normal(size=(5_000, 6))
    cur = rng.normal(size=(1_000, 6))
    cur[:, 2] += 0.3
    report = compute_drift(ref, cur, _names(6))
    assert report.drifted
    assert report.drifted_features == ["f2"]
    assert [f.drifted for f in report.features] == [False, False, True, False, False, False]


@pytest.mark.parametrize("correction", ["bh", "bonferroni"])
def test_false_alarm_rate_without_drift_is_within_the_threshold(correction):
    rng = np.random.default_rng(2024)
    trials, k, alpha = 300, 10, 0.05
    alarms = 0
    raw_hits = 0
    for _ in range(trials):
        ref = DriftReference(rng.normal(size=(2_000, k)), _names(k), p_threshold=alpha,
                             correction=correction)
        report = ref.compare(rng.normal(size=(500, k)))
        alarms += report.drifted
        raw_hits += sum(f.p_value < alpha for f in report.features)
    # Under no drift, either correction keeps P(any alarm) <= alpha; allow 3 binomial sd.
    bound = alpha + 3 * math.sqrt(alpha * (1 - alpha) / trials)
    assert alarms / trials <= bound
    # The raw p-values are calibrated: about alpha of them fall below alpha (3,000 tests).
    assert 0.03 <= raw_hits / (trials * k) <= 0.065


def test_a_half_sd_shift_is_detected_almost_always():
    rng = np.random.default_rng(7)
    detected = 0
    for _ in range(50):
        ref = rng.normal(size=(2_000, 5))
        cur = rng.normal(size=(300, 5))
        cur[:, 0] += 0.5
        detected += compute_drift(ref, cur, _names(5)).features[0].drifted
    assert detected >= 48


def test_report_is_json_safe_and_names_thresholds():
    rng = np.random.default_rng(1)
    report = compute_drift(rng.normal(size=(200, 2)), rng.normal(size=(100, 2)), ["a", "b"],
                           psi_threshold=math.inf, correction="bonferroni")
    data = json.loads(json.dumps(report.to_dict()))
    assert data["psi_threshold"] is None and data["p_threshold"] == 0.05
    assert data["correction"] == "bonferroni"
    assert (data["n_reference"], data["n_current"]) == (200, 100)
    assert [f["name"] for f in data["features"]] == ["a", "b"]
    assert set(data["features"][0]) == {"name", "ks_statistic", "p_value", "adjusted_p_value", "psi", "drifted", "test"}


def test_compare_accepts_a_frame_in_any_column_order_and_the_csv_reference(tmp_path):
    rng = np.random.default_rng(3)
    ref = pd.DataFrame(rng.normal(size=(300, 3)), columns=["a", "b", "c"])
    ref.to_csv(tmp_path / "reference.csv", index=False)
    loaded = DriftReference.from_csv(str(tmp_path / "reference.csv"))
    assert loaded.feature_names == ["a", "b", "c"]
    cur = pd.DataFrame(rng.normal(size=(100, 4)), columns=["c", "extra", "a", "b"])
    from_frame = loaded.compare(cur)
    from_array = loaded.compare(cur[["a", "b", "c"]].to_numpy())
    assert from_frame == from_array
    with pytest.raises(ValueError, match="current is missing feature column\\(s\\): b"):
        loaded.compare(cur.drop(columns=["b"]))


@pytest.mark.parametrize(
    ("ref", "cur", "names", "kwargs", "message"),
    [
        (np.zeros(50), np.zeros((50, 1)), ["a"], {}, r"reference must be a 2-D array .* got shape \(50,\)"),
        (np.ones((50, 2)), np.ones((50, 3)), ["a", "b"], {}, "current has 3 feature columns, expected 2"),
        (np.ones((50, 2)), np.ones((50, 2)), ["a"], {}, "reference has 2 feature columns, expected 1"),
        (np.ones((5, 1)), np.ones((50, 1)), ["a"], {}, f"reference has 5 rows, at least {MIN_ROWS}"),
        (np.ones((50, 1)), np.ones((3, 1)), ["a"], {}, f"current has 3 rows, at least {MIN_ROWS}"),
        (np.ones((50, 2)), np.full((50, 2), np.nan), ["a", "b"], {}, r"current contains NaN or infinite values in column\(s\) \[0, 1\]"),
        (np.ones((50, 2)), np.ones((50, 2)), ["a", "a"], {}, "feature_names contains duplicates"),
        (np.ones((50, 1)), np.ones((50, 1)), ["a"], {"correction": "fdr"}, "correction must be one of"),
        (np.ones((50, 1)), np.ones((50, 1)), ["a"], {"p_threshold": 1.5}, "p_threshold must be within"),
        (np.ones((50, 1)), np.ones((50, 1)), ["a"], {"bins": 1}, "bins must be an integer >= 2"),
    ],
)
def test_bad_input_raises_a_clear_value_error(ref, cur, names, kwargs, message):
    with pytest.raises(ValueError, match=message):
        compute_drift(ref, cur, names, **kwargs)


# --- categorical columns, the verdict's false-alarm rate at the service's windows -----------------


def test_chi_square_on_a_categorical_column_matches_scipy():
    rng = np.random.default_rng(3)
    ref = rng.integers(0, 4, size=(3_000, 1)).astype(float)
    cur = rng.choice(4, size=(400, 1), p=[0.4, 0.2, 0.2, 0.2]).astype(float)
    feature = compute_drift(ref, cur, ["c"]).features[0]
    assert feature.test == "chi2"
    table = np.array([[np.sum(ref == v) for v in range(4)], [np.sum(cur == v) for v in range(4)]])
    oracle = stats.chi2_contingency(table, correction=False)
    assert feature.ks_statistic == pytest.approx(oracle.statistic, rel=1e-12)
    assert feature.p_value == pytest.approx(oracle.pvalue, rel=1e-12)


def test_a_rare_binary_feature_going_to_always_on_is_detected():
    # promo at 10% -> 100%: PSI with 10 quantile bins was exactly 0 here (one bin), KS barely tests it.
    rng = np.random.default_rng(4)
    ref = (rng.random((5_000, 1)) < 0.1).astype(float)
    cur = np.ones((100, 1))
    report = compute_drift(ref, cur, ["promo"])
    assert report.drifted and report.features[0].test == "chi2"


@pytest.mark.parametrize("window", [100, 500, 2_000])
def test_demand_verdict_holds_alpha_at_every_service_window(window):
    """Seeded simulation on the demand features the service compares (calendar left out):
    no drift, the verdict's alarm rate stays under a bound computed from the number of windows;
    a promo shift is found."""
    from ml.data import generate_demand

    feats = ["store_id", "item_id", "day_of_week", "price", "promo"]
    ref = DriftReference(generate_demand(5_000, 1)[feats].to_numpy(float), feats)
    assert ref.categorical == ["store_id", "item_id", "day_of_week", "promo"]
    pool = generate_demand(100_000, 2)[feats].to_numpy(float)
    rng = np.random.default_rng(window)
    windows, alpha = 150, 0.05
    alarms = sum(ref.compare(pool[rng.choice(len(pool), window, replace=False)]).drifted for _ in range(windows))
    bound = stats.binom.ppf(0.999, windows, alpha)  # exceeded with probability < 0.1% if calibrated
    assert alarms <= bound, f"{alarms}/{windows} false alarms at window {window} (bound {bound})"
    cur = pool[rng.choice(len(pool), window, replace=False)].copy()
    cur[:, 4] = rng.random(window) < 0.4  # promo 10% -> 40%
    assert "promo" in ref.compare(cur).drifted_features


def test_psi_is_an_effect_size_not_an_alarm_of_its_own():
    rng = np.random.default_rng(9)
    ref, cur = rng.normal(size=(2_000, 3)), rng.normal(size=(100, 3))
    report = compute_drift(ref, cur, _names(3))
    assert any(f.psi > 0.05 for f in report.features) and not report.drifted  # small-window PSI bias
    shifted = cur.copy()
    shifted[:, 0] += 0.6
    assert compute_drift(ref, shifted, _names(3)).drifted
    assert not compute_drift(ref, shifted, _names(3), psi_threshold=50.0).drifted
