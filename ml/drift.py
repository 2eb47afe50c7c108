"""Per-feature drift statistics: two-sample Kolmogorov-Smirnov and the population stability index.

Used by the serving app (a periodic check over its ring buffer of recent inputs) and by the
retrain trigger. The statistics run on 2-D float arrays, one column per feature, with the work
batched over features (one sort of the window, one pass of integer arithmetic for the ECDF
differences, one ``bincount`` for all PSI histograms, one vectorised p-value call). The only
per-feature step is ``np.searchsorted`` into the presorted reference column, because numpy has
no batched searchsorted; it is O(n_current log n_reference) per feature.

Definitions
-----------
KS statistic
    ``D = sup_x |F_ref(x) - F_cur(x)|`` over the empirical CDFs; identical to
    ``scipy.stats.ks_2samp(ref, cur).statistic`` (ties handled the same way).
KS p-value
    Two-sided, Smirnov's asymptotic distribution: ``scipy.stats.kstwo.sf(D, round(n*m/(n+m)))``.
    This is exactly ``scipy.stats.ks_2samp(ref, cur, method="asymp").pvalue``. scipy's default
    ``method="auto"`` switches to an exact (O(n*m)) computation when both samples have at most
    10,000 rows; the asymptotic value is what a periodic check can afford, and it is slightly
    conservative for small samples and for discrete (tied) data.
PSI
    ``sum_b (c_b - r_b) * ln(c_b / r_b)`` over ``bins`` quantile bins of the reference (edges at
    the reference's 1/bins, 2/bins, ... quantiles, computed once; a value equal to an edge falls
    in the upper bin). ``r_b`` and ``c_b`` are the reference and current proportions, floored at
    ``PSI_EPSILON`` so an empty bin gives a large but finite term. Quantile edges that coincide
    (discrete features) are merged, so such a feature simply has fewer effective bins.
    Rule of thumb: < 0.1 stable, 0.1 - 0.2 moderate shift, > 0.2 significant shift.
Multiple-testing correction (``correction``)
    ``"bonferroni"``: ``min(1, p * k)`` over the ``k`` features; controls the family-wise error
    rate. ``"bh"`` (Benjamini-Hochberg step-up): ``min(1, min_{j >= i} p_(j) * k / j)`` on the
    sorted p-values; controls the false discovery rate (and, when no feature drifted, the chance
    of any false alarm) at the threshold; equal to
    ``scipy.stats.false_discovery_control(p, method="bh")``. ``"none"`` leaves p-values as they are.
Categorical / low-cardinality features
    Columns named in ``categorical`` (default ``"auto"``: integral columns of the reference with
    at most ``MAX_CATEGORIES`` distinct values) are tested with Pearson's chi-square on the
    2 x K table of reference and current category counts (``scipy.stats.chi2_contingency``
    without continuity correction), as alibi-detect's ChiSquareDrift and Evidently do. Categories
    are merged, rarest first, until each group expects at least 5 current rows, so the
    asymptotic test holds at small windows; values never seen in the reference form their own
    group. The asymptotic KS barely rejects on such discrete data, and PSI is 0 for a binary
    feature whose share is below 1/bins: both were blind there.
Verdict
    A feature has drifted when its adjusted p-value (KS or chi-square, one BH family) is below
    ``p_threshold`` *and* its PSI is at least ``psi_threshold`` (the minimum effect size; default
    0, i.e. significance alone). PSI no longer raises an alarm on its own: as an OR with no
    multiplicity control and biased at small windows it alarmed far above alpha (16-72% at 100
    rows). The report has drifted when any feature has, so with BH the chance of any false alarm
    over all features stays at ``p_threshold`` at every window of at least ``MIN_ROWS`` rows.
Calendar features
    Not compared: the model's calendar/time inputs (``TaskSpec.calendar_features``) are left out
    of the reference training writes, since a live window spans days and the reference a year.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from scipy import stats

__all__ = [
    "CORRECTIONS",
    "MIN_ROWS",
    "PSI_EPSILON",
    "DriftReference",
    "DriftReport",
    "FeatureDrift",
    "adjust_p_values",
    "compute_drift",
]

#: Fewest rows accepted in the reference and in the current window.
MIN_ROWS = 20
#: "auto" treats integral reference columns with at most this many distinct values as categorical.
MAX_CATEGORIES = 200
#: Fewest expected current rows per chi-square group (categories are merged to reach it).
MIN_EXPECTED = 5.0
#: Floor on bin proportions in the PSI sum.
PSI_EPSILON = 1e-4
CORRECTIONS = ("bh", "bonferroni", "none")


@dataclass(frozen=True)
class FeatureDrift:
    """Drift statistics of one feature."""

    name: str
    ks_statistic: float  # the test statistic: KS D, or chi-square for a categorical feature
    p_value: float
    adjusted_p_value: float
    psi: float
    drifted: bool
    test: str = "ks"  # "ks" | "chi2"


@dataclass(frozen=True)
class DriftReport:
    """Per-feature statistics and the overall verdict of one comparison."""

    drifted: bool
    features: list[FeatureDrift]
    n_reference: int
    n_current: int
    correction: str
    p_threshold: float = 0.05
    psi_threshold: float = 0.0
    drifted_features: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict (plain Python types; an infinite threshold becomes ``None``)."""
        out = asdict(self)
        for key in ("p_threshold", "psi_threshold"):
            if not math.isfinite(out[key]):
                out[key] = None
        return out


def _check_matrix(name: str, values: Any, n_features: int | None) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (rows x features), got shape {arr.shape}")
    if n_features is not None and arr.shape[1] != n_features:
        raise ValueError(f"{name} has {arr.shape[1]} feature columns, expected {n_features}")
    if arr.shape[0] < MIN_ROWS:
        raise ValueError(f"{name} has {arr.shape[0]} rows, at least {MIN_ROWS} are needed")
    if not np.isfinite(arr).all():
        bad = np.flatnonzero(~np.isfinite(arr).all(axis=0))
        raise ValueError(f"{name} contains NaN or infinite values in column(s) {bad.tolist()}")
    return arr


def adjust_p_values(p_values: np.ndarray, correction: str) -> np.ndarray:
    """Adjust a 1-D array of p-values for multiple testing ("bh", "bonferroni" or "none")."""
    p = np.asarray(p_values, dtype=np.float64)
    k = p.size
    if correction == "none":
        return p.copy()
    if correction == "bonferroni":
        return np.minimum(p * k, 1.0)
    if correction == "bh":
        order = np.argsort(p)
        scaled = p[order] * k / np.arange(1, k + 1)
        stepped = np.minimum.accumulate(scaled[::-1])[::-1]
        out = np.empty_like(p)
        out[order] = np.minimum(stepped, 1.0)
        return out
    raise ValueError(f"correction must be one of {', '.join(CORRECTIONS)}; got {correction!r}")


class DriftReference:
    """A reference sample prepared once (sorted columns, PSI bin edges) for repeated checks.

    ``reference`` is ``(n_rows, n_features)``; ``feature_names`` names the columns in order.
    ``compare(current)`` accepts a 2-D array with the same columns, or a pandas DataFrame that
    has (at least) those columns.
    """

    def __init__(
        self,
        reference: np.ndarray,
        feature_names: list[str],
        *,
        p_threshold: float = 0.05,
        psi_threshold: float = 0.0,
        correction: str = "bh",
        bins: int = 10,
        categorical: Any = "auto",
    ) -> None:
        names = [str(n) for n in feature_names]
        if len(set(names)) != len(names):
            raise ValueError("feature_names contains duplicates")
        if correction not in CORRECTIONS:
            raise ValueError(f"correction must be one of {', '.join(CORRECTIONS)}; got {correction!r}")
        if not 0.0 <= p_threshold <= 1.0:
            raise ValueError(f"p_threshold must be within [0, 1], got {p_threshold}")
        if not psi_threshold >= 0.0:
            raise ValueError(f"psi_threshold must be >= 0, got {psi_threshold}")
        if int(bins) != bins or bins < 2:
            raise ValueError(f"bins must be an integer >= 2, got {bins}")
        if not names:
            raise ValueError("feature_names is empty")
        ref = _check_matrix("reference", reference, len(names))
        self.feature_names = names
        self.p_threshold = float(p_threshold)
        self.psi_threshold = float(psi_threshold)
        self.correction = correction
        self.bins = int(bins)
        self.n_reference = ref.shape[0]
        self._sorted_reference_t = np.sort(ref.T, axis=1)  # (k, n): contiguous per feature
        self.edges = self._bin_edges(self._sorted_reference_t.T, self.bins)
        self.reference_proportions = self._proportions(ref)
        self._ref = ref
        if isinstance(categorical, str) and categorical == "auto":
            cats = [
                j for j in range(ref.shape[1])
                if np.all(ref[:, j] == np.round(ref[:, j]))
                and np.unique(ref[:, j]).size <= MAX_CATEGORIES
            ]
        else:
            unknown = sorted(set(categorical) - set(names))
            if unknown:
                raise ValueError(f"categorical names unknown feature(s): {', '.join(unknown)}")
            cats = [names.index(c) for c in categorical]
        self.categorical = [names[j] for j in cats]
        self._categories = {j: np.unique(ref[:, j], return_counts=True) for j in cats}

    def configured(self, **settings: Any) -> DriftReference:
        """The same reference with other thresholds/correction (e.g. from serving settings)."""
        kwargs = {"p_threshold": self.p_threshold, "psi_threshold": self.psi_threshold,
                  "correction": self.correction, "bins": self.bins, "categorical": self.categorical}
        kwargs.update(settings)
        return DriftReference(self._ref, self.feature_names, **kwargs)

    def chi2(self, current: np.ndarray) -> tuple[dict[int, float], dict[int, float]]:
        """Chi-square statistic and p-value per categorical column index (see module docstring)."""
        stat: dict[int, float] = {}
        pval: dict[int, float] = {}
        n_cur = current.shape[0]
        for j, (values, ref_counts) in self._categories.items():
            col = current[:, j]
            known = np.isin(col, values)
            cur_counts = np.array([np.count_nonzero(col == v) for v in values], dtype=np.float64)
            # Merge the rarest categories until each group expects MIN_EXPECTED current rows.
            order = np.argsort(ref_counts)
            ref_groups, cur_groups = [], []
            acc_r = acc_c = 0.0
            for i in order:
                acc_r += ref_counts[i]
                acc_c += cur_counts[i]
                if acc_r / self.n_reference * n_cur >= MIN_EXPECTED:
                    ref_groups.append(acc_r)
                    cur_groups.append(acc_c)
                    acc_r = acc_c = 0.0
            if acc_r or acc_c:
                if ref_groups:
                    ref_groups[-1] += acc_r
                    cur_groups[-1] += acc_c
                else:
                    ref_groups.append(acc_r)
                    cur_groups.append(acc_c)
            unseen = float(np.count_nonzero(~known))
            if unseen:
                ref_groups.append(0.0)
                cur_groups.append(unseen)
            if len(ref_groups) < 2:
                stat[j], pval[j] = 0.0, 1.0
                continue
            res = stats.chi2_contingency(np.array([ref_groups, cur_groups]), correction=False)
            stat[j], pval[j] = float(res.statistic), float(res.pvalue)
        return stat, pval

    @classmethod
    def from_csv(cls, path: str, **kwargs: Any) -> DriftReference:
        """Load a reference written by training (``drift/reference.csv``: header = feature names)."""
        import pandas as pd

        frame = pd.read_csv(path)
        return cls(frame.to_numpy(dtype=np.float64), list(frame.columns), **kwargs)

    @staticmethod
    def _bin_edges(sorted_ref: np.ndarray, bins: int) -> np.ndarray:
        """Interior quantile edges per feature, ``(bins - 1, k)``; merged duplicates become +inf."""
        qs = np.quantile(sorted_ref, np.arange(1, bins) / bins, axis=0)  # (bins-1, k)
        qs = np.sort(qs, axis=0)
        dup = np.zeros_like(qs, dtype=bool)
        dup[1:] = qs[1:] == qs[:-1]
        # A duplicate edge never matches (x >= inf is false), so its bin stays empty in both
        # samples and contributes exactly 0 to the PSI.
        return np.where(dup, np.inf, qs)

    def _proportions(self, values: np.ndarray) -> np.ndarray:
        """Bin proportions per feature, ``(k, bins)``, floored at ``PSI_EPSILON``."""
        n, k = values.shape
        # bin index = number of edges <= x (value on an edge goes to the upper bin)
        idx = (values[:, None, :] >= self.edges[None, :, :]).sum(axis=1)  # (n, k)
        flat = idx + np.arange(k)[None, :] * self.bins
        counts = np.bincount(flat.ravel(), minlength=k * self.bins).reshape(k, self.bins)
        return np.maximum(counts / n, PSI_EPSILON)

    def _select(self, current: Any) -> Any:
        columns = getattr(current, "columns", None)
        if columns is None:
            return current
        missing = [n for n in self.feature_names if n not in columns]
        if missing:
            raise ValueError(f"current is missing feature column(s): {', '.join(missing)}")
        return current[self.feature_names]

    def ks(self, current: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """KS statistics and asymptotic two-sided p-values per feature for a checked matrix."""
        # Work feature-major, (k, n), so every per-feature row is contiguous in memory.
        cur = np.sort(current.T, axis=1)
        ref = self._sorted_reference_t
        k, n2 = cur.shape
        n1 = self.n_reference
        # Count of reference values <= each current value (numpy has no batched searchsorted).
        r_right = np.empty(cur.shape, dtype=np.int64)
        for j in range(k):
            r_right[j] = np.searchsorted(ref[j], cur[j], side="right")
        # Count of reference values < each current value: differs only where the value also
        # occurs in the reference (ties, e.g. discrete features), so look those up alone.
        r_left = r_right.copy()
        rows = np.arange(k)[:, None]
        tied = (r_right > 0) & (ref[rows, np.maximum(r_right - 1, 0)] == cur)
        for j in np.flatnonzero(tied.any(axis=1)):
            mask = tied[j]
            r_left[j, mask] = np.searchsorted(ref[j], cur[j, mask], side="left")
        # The ECDF difference F_ref - F_cur is a right-continuous step function; between two
        # consecutive current values F_cur is flat and F_ref rises, so the supremum of |diff| is
        # reached either at a current value (right limit, last of a run of ties) or just
        # before one (left limit, first of a run of ties). Integer arithmetic, scaled by n1*n2.
        pos = np.arange(n2, dtype=np.int64)[None, :]
        last_of_run = np.ones(cur.shape, dtype=bool)
        last_of_run[:, :-1] = cur[:, 1:] != cur[:, :-1]
        first_of_run = np.ones(cur.shape, dtype=bool)
        first_of_run[:, 1:] = last_of_run[:, :-1]
        at_value = np.where(last_of_run, np.abs(r_right * n2 - (pos + 1) * n1), 0)
        before_value = np.where(first_of_run, r_left * n2 - pos * n1, 0)
        d = np.maximum(at_value.max(axis=1), before_value.max(axis=1)) / (n1 * n2)
        d = np.clip(d, 0.0, 1.0)
        m, n = max(n1, n2), min(n1, n2)
        en = np.round(m * n / (m + n))
        p = np.clip(stats.kstwo.sf(d, en), 0.0, 1.0)
        return d, np.asarray(p, dtype=np.float64)

    def psi(self, current: np.ndarray) -> np.ndarray:
        """PSI per feature for a checked matrix."""
        cur_prop = self._proportions(current)
        ref_prop = self.reference_proportions
        return ((cur_prop - ref_prop) * np.log(cur_prop / ref_prop)).sum(axis=1)

    def compare(self, current: Any) -> DriftReport:
        """Compare a window of current rows against the reference; see the module docstring."""
        cur = _check_matrix("current", self._select(current), len(self.feature_names))
        d, p = self.ks(cur)
        c_stat, c_p = self.chi2(cur)
        for j in c_stat:
            d[j], p[j] = c_stat[j], c_p[j]
        adj = adjust_p_values(p, self.correction)
        psi = self.psi(cur)
        flags = (adj < self.p_threshold) & (psi >= self.psi_threshold)
        features = [
            FeatureDrift(
                name=name,
                ks_statistic=float(d[j]),
                p_value=float(p[j]),
                adjusted_p_value=float(adj[j]),
                psi=float(psi[j]),
                drifted=bool(flags[j]),
                test="chi2" if j in c_stat else "ks",
            )
            for j, name in enumerate(self.feature_names)
        ]
        return DriftReport(
            drifted=bool(flags.any()),
            features=features,
            n_reference=int(self.n_reference),
            n_current=int(cur.shape[0]),
            correction=self.correction,
            p_threshold=self.p_threshold,
            psi_threshold=self.psi_threshold,
            drifted_features=[f.name for f in features if f.drifted],
        )


def compute_drift(
    reference: np.ndarray,
    current: np.ndarray,
    feature_names: list[str],
    *,
    p_threshold: float = 0.05,
    psi_threshold: float = 0.0,
    correction: str = "bh",
    bins: int = 10,
    categorical: Any = "auto",
) -> DriftReport:
    """One-off comparison: build a ``DriftReference`` and compare ``current`` against it."""
    ref = DriftReference(
        reference,
        feature_names,
        p_threshold=p_threshold,
        psi_threshold=psi_threshold,
        correction=correction,
        bins=bins,
        categorical=categorical,
    )
    return ref.compare(current)
