"""The two training tasks: what data they read, how they split it, their pipeline and metrics.

Each task is a ``TaskSpec`` in ``TASKS``; ``ml.train`` only looks tasks up in that table.

demand
    Regression of ``units_sold`` on the synthetic retail set (``ml.data.generate_demand``, the
    default world: every run samples the same stores and items, ``seed`` only changes the sample).
    Time-based split: the last ``test_size`` share of days is held out, as a forecast would be
    judged. Model inputs are the ``DEMAND_FEATURES`` as float64 (signature: all ``double``). Pipeline: column selection -> ``HistGradientBoostingRegressor`` (Poisson loss,
    store and item as native categorical features). Metrics: ``mae`` (gate, lower is better),
    ``rmse``, ``mape`` (mean |error| / actual over rows whose actual is > 0, so zero-sale days do
    not divide by zero).
iris
    Classification of ``species`` on sklearn's bundled iris. Stratified random split.
    Pipeline: column selection -> ``RandomForestClassifier``. Metrics: ``accuracy`` (gate, higher
    is better) and ``f1_macro``. ``rows`` below 150 takes a stratified subsample first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestClassifier
from sklearn.metrics import accuracy_score, f1_score, mean_absolute_error, mean_squared_error
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline

from ml import data

__all__ = ["HOLDOUT_SEED", "TASKS", "Split", "TaskSpec", "exclude_keys", "get_task"]

#: Seed of the frozen held-out set of every model name (independent of any training seed).
HOLDOUT_SEED = 20_240_601


@dataclass(frozen=True)
class Split:
    """Train and held-out frames (features and target) of one task."""

    x_train: pd.DataFrame
    y_train: pd.Series
    x_test: pd.DataFrame
    y_test: pd.Series
    description: str


@dataclass(frozen=True)
class TaskSpec:
    """Everything ``ml.train`` needs to know about one task."""

    name: str
    features: tuple[str, ...]
    target: str
    gate_metric: str
    greater_is_better: bool
    default_rows: int | None
    load: Callable[..., pd.DataFrame]  # (rows, seed, exclude=None) -> frame
    split: Callable[[pd.DataFrame, float, int], Split]
    build: Callable[[int, dict[str, Any]], Pipeline]
    evaluate: Callable[[np.ndarray, np.ndarray], dict[str, float]]
    #: Columns that identify a row of the task's data (a held-out row is never trained on).
    key_columns: tuple[str, ...] = ()
    #: The frozen held-out set, built once per model name: keys, features and target.
    holdout: Callable[[], pd.DataFrame] | None = None
    #: Per-row loss for the paired significance test (0/1 error, absolute error).
    row_loss: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None
    #: Model inputs that are categorical / low-cardinality (drift: chi-square, not KS).
    categorical_features: tuple[str, ...] = ()
    #: Calendar/time inputs: excluded from covariate drift (a live window covers a few days,
    #: the reference spans the year, so they would always "drift").
    calendar_features: tuple[str, ...] = ()

    def better(self, candidate: float, champion: float, min_improvement: float = 0.0) -> bool:
        """True when ``candidate`` beats ``champion`` by more than ``min_improvement``."""
        if self.greater_is_better:
            return candidate > champion + min_improvement
        return candidate < champion - min_improvement


def _select(features: tuple[str, ...]) -> ColumnTransformer:
    # Picks the model's columns by name, in a fixed order: callers may send extra columns or
    # a different order, and the estimator still sees the layout it was trained on.
    return ColumnTransformer([("features", "passthrough", list(features))], remainder="drop")


def _make(cls: type, defaults: dict[str, Any], overrides: dict[str, Any]) -> Any:
    """``cls(**defaults, **overrides)``, naming any override ``cls`` does not accept."""
    known = set(cls().get_params(deep=False))
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ValueError(f"unknown hyper-parameter(s) for {cls.__name__}: {', '.join(unknown)}")
    return cls(**{**defaults, **overrides})


# --- demand -------------------------------------------------------------------------------


def exclude_keys(frame: pd.DataFrame, exclude: pd.DataFrame | None, keys: tuple[str, ...]) -> pd.DataFrame:
    """``frame`` without the rows whose ``keys`` occur in ``exclude`` (an anti-join)."""
    if exclude is None or not keys or not set(keys) <= set(frame.columns):
        return frame
    marker = exclude[list(keys)].drop_duplicates().assign(_held_out=True)
    merged = frame.merge(marker, on=list(keys), how="left")
    return merged.loc[merged["_held_out"].isna()].drop(columns="_held_out").reset_index(drop=True)


_DEMAND_KEYS = ("date", "store_id", "item_id")


def _load_demand(rows: int | None, seed: int, exclude: pd.DataFrame | None = None) -> pd.DataFrame:
    frame = data.generate_demand(rows if rows is not None else 100_000, seed)
    return exclude_keys(data.validate_frame(frame, data.DEMAND_SCHEMA), exclude, _DEMAND_KEYS)


def _holdout_demand() -> pd.DataFrame:
    # The last 20% of days of a fixed sample of the default world: a forecast-style held-out set.
    frame = data.generate_demand(25_000, HOLDOUT_SEED)
    cutoff = frame["date"].quantile(0.8)
    return frame.loc[frame["date"] > cutoff].reset_index(drop=True)


def _split_demand(frame: pd.DataFrame, test_size: float, seed: int) -> Split:
    cutoff = frame["date"].quantile(1.0 - test_size)
    test = frame["date"] > cutoff
    if test.sum() == 0 or (~test).sum() == 0:
        raise ValueError(f"too few rows ({len(frame)}) to hold out the last {test_size:.0%} of days")
    # Model inputs are float64 throughout: the logged signature then says "double" for every
    # column, which accepts JSON integers and floats alike (an integer column would reject 3.0).
    feats = list(data.DEMAND_FEATURES)
    frame = frame.astype({c: np.float64 for c in feats})
    return Split(
        x_train=frame.loc[~test, feats].reset_index(drop=True),
        y_train=frame.loc[~test, data.DEMAND_TARGET].reset_index(drop=True),
        x_test=frame.loc[test, feats].reset_index(drop=True),
        y_test=frame.loc[test, data.DEMAND_TARGET].reset_index(drop=True),
        description=f"time-based: held out days after {pd.Timestamp(cutoff).date()}",
    )


def _build_demand(seed: int, params: dict[str, Any]) -> Pipeline:
    cat = [data.DEMAND_FEATURES.index(c) for c in ("store_id", "item_id")]
    settings: dict[str, Any] = {
        "loss": "poisson",
        "max_iter": 300,
        "learning_rate": 0.1,
        "max_leaf_nodes": 31,
        "categorical_features": cat,
        "early_stopping": "auto",
        "random_state": seed,
    }
    return Pipeline(
        [
            ("select", _select(data.DEMAND_FEATURES)),
            ("regressor", _make(HistGradientBoostingRegressor, settings, params)),
        ]
    )


def _eval_demand(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    positive = y_true > 0
    mape = (
        float(np.mean(np.abs(y_true[positive] - y_pred[positive]) / y_true[positive]))
        if positive.any()
        else float("nan")
    )
    return {
        "mae": float(mean_absolute_error(y_true, y_pred)),
        "rmse": float(np.sqrt(mean_squared_error(y_true, y_pred))),
        "mape": mape,
    }


# --- iris ---------------------------------------------------------------------------------


def _iris_with_ids() -> pd.DataFrame:
    frame = data.validate_frame(data.load_iris_frame(), data.IRIS_SCHEMA)
    return frame.assign(row_id=np.arange(len(frame), dtype=np.int64))


def _holdout_iris() -> pd.DataFrame:
    frame = _iris_with_ids()
    _, held = train_test_split(
        frame, test_size=0.2, stratify=frame[data.IRIS_TARGET], random_state=HOLDOUT_SEED
    )
    return held.sort_values("row_id").reset_index(drop=True)


def _load_iris(rows: int | None, seed: int, exclude: pd.DataFrame | None = None) -> pd.DataFrame:
    frame = exclude_keys(_iris_with_ids(), exclude, ("row_id",))
    if rows is not None and rows < len(frame):
        frame, _ = train_test_split(
            frame, train_size=rows, stratify=frame[data.IRIS_TARGET], random_state=seed
        )
    return frame.reset_index(drop=True)


def _split_iris(frame: pd.DataFrame, test_size: float, seed: int) -> Split:
    feats = list(data.IRIS_FEATURES)
    x_train, x_test, y_train, y_test = train_test_split(
        frame[feats],
        frame[data.IRIS_TARGET],
        test_size=test_size,
        stratify=frame[data.IRIS_TARGET],
        random_state=seed,
    )
    return Split(
        x_train=x_train.reset_index(drop=True),
        y_train=y_train.reset_index(drop=True),
        x_test=x_test.reset_index(drop=True),
        y_test=y_test.reset_index(drop=True),
        description=f"stratified random, test_size={test_size}",
    )


def _build_iris(seed: int, params: dict[str, Any]) -> Pipeline:
    settings: dict[str, Any] = {"n_estimators": 100, "random_state": seed, "n_jobs": 1}
    return Pipeline(
        [
            ("select", _select(data.IRIS_FEATURES)),
            ("classifier", _make(RandomForestClassifier, settings, params)),
        ]
    )


def _eval_iris(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "f1_macro": float(f1_score(y_true, y_pred, average="macro")),
    }


TASKS: dict[str, TaskSpec] = {
    "demand": TaskSpec(
        name="demand",
        features=data.DEMAND_FEATURES,
        target=data.DEMAND_TARGET,
        gate_metric="mae",
        greater_is_better=False,
        default_rows=100_000,
        load=_load_demand,
        split=_split_demand,
        build=_build_demand,
        evaluate=_eval_demand,
        key_columns=_DEMAND_KEYS,
        holdout=_holdout_demand,
        row_loss=lambda y, p: np.abs(np.asarray(y, np.float64) - np.asarray(p, np.float64)),
        categorical_features=("store_id", "item_id", "day_of_week", "promo"),
        calendar_features=("day_of_year",),
    ),
    "iris": TaskSpec(
        name="iris",
        features=data.IRIS_FEATURES,
        target=data.IRIS_TARGET,
        gate_metric="accuracy",
        greater_is_better=True,
        default_rows=None,
        load=_load_iris,
        split=_split_iris,
        build=_build_iris,
        evaluate=_eval_iris,
        key_columns=("row_id",),
        holdout=_holdout_iris,
        row_loss=lambda y, p: (np.asarray(y) != np.asarray(p)).astype(np.float64),
    ),
}


def get_task(name: str) -> TaskSpec:
    """The task called ``name``; ``ValueError`` naming the known tasks otherwise."""
    try:
        return TASKS[name]
    except KeyError:
        raise ValueError(f"unknown task {name!r}; choose one of: {', '.join(TASKS)}") from None
