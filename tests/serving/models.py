"""Small real models for the serving tests (no test functions here).

``save_iris(path)`` / ``save_demand(path)`` write MLflow sklearn models (signature + input
example) to a directory and their drift reference CSV next to it; ``register(uri, name, task)``
logs one to a tracking server as a run (with ``drift/reference.csv``) and registers a version.
``register_broken(uri, name)`` registers a version that loads but fails verification on its
own input example (its signature and example lack columns its pipeline needs).

The models are deliberately small (seconds to fit) and pickled with cloudpickle, so the tests
do not depend on the training code's skops trust list.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

IRIS_FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
DEMAND_FEATURES = ["store_id", "item_id", "day_of_week", "day_of_year", "price", "promo"]


def _select(features: list[str]) -> Any:
    from sklearn.compose import ColumnTransformer

    return ColumnTransformer([("features", "passthrough", features)], remainder="drop")


def iris_data() -> tuple[pd.DataFrame, np.ndarray]:
    from sklearn.datasets import load_iris

    bunch = load_iris()
    return pd.DataFrame(np.asarray(bunch.data, dtype=np.float64), columns=IRIS_FEATURES), bunch.target


def fit_iris(n_estimators: int = 20, seed: int = 0) -> Any:
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import Pipeline

    x, y = iris_data()
    pipe = Pipeline([("select", _select(IRIS_FEATURES)),
                     ("classifier", RandomForestClassifier(n_estimators=n_estimators, random_state=seed, n_jobs=1))])
    return pipe.fit(x, y)


def demand_data(rows: int = 4000, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "store_id": rng.integers(0, 20, rows),
        "item_id": rng.integers(0, 100, rows),
        "day_of_week": rng.integers(0, 7, rows),
        "day_of_year": rng.integers(1, 366, rows),
        "price": np.round(rng.uniform(1.0, 30.0, rows), 2),
        "promo": (rng.random(rows) < 0.1).astype(np.int64),
    })
    y = rng.poisson(20.0 / frame["price"].to_numpy() * (1 + frame["promo"].to_numpy()) * 5)
    return frame, y


def fit_demand(max_iter: int = 30, seed: int = 0) -> Any:
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.pipeline import Pipeline

    x, y = demand_data(seed=seed)
    pipe = Pipeline([("select", _select(DEMAND_FEATURES)),
                     ("regressor", HistGradientBoostingRegressor(max_iter=max_iter, random_state=seed,
                                                                 categorical_features=[0, 1]))])
    return pipe.fit(x, y)


TASKS = {"iris": (fit_iris, iris_data), "demand": (fit_demand, demand_data)}


def _log_args(task: str, **fit_kwargs: Any) -> tuple[Any, pd.DataFrame, Any, pd.DataFrame]:
    from mlflow.models import infer_signature

    fit, data = TASKS[task]
    model = fit(**fit_kwargs)
    x, _ = data()
    example = x.head(5)
    return model, example, infer_signature(example, model.predict(example)), x


def save(task: str, path: Path, **fit_kwargs: Any) -> Path:
    """Save a model to ``path`` (an MLflow model dir) and ``path.parent/<name>-reference.csv``."""
    import mlflow

    model, example, signature, x = _log_args(task, **fit_kwargs)
    mlflow.sklearn.save_model(model, str(path), signature=signature, input_example=example,
                              serialization_format="cloudpickle", pip_requirements=[])
    x.to_csv(path.parent / f"{path.name}-reference.csv", index=False)
    return path


def register(uri: str, name: str, task: str, *, alias: str | None = "champion", **fit_kwargs: Any) -> str:
    """Log + register a version of ``name`` on the server at ``uri``; returns the version."""

    model, example, signature, x = _log_args(task, **fit_kwargs)
    return _register(uri, name, alias, model, example, signature, x)


def register_broken(uri: str, name: str, *, alias: str | None = "champion") -> str:
    """A version whose signature/example omit a column the pipeline selects: verification fails."""
    from mlflow.models import infer_signature

    model = fit_iris()
    x, _ = iris_data()
    example = x[IRIS_FEATURES[:2]].head(5)
    signature = infer_signature(example, np.zeros(5, dtype=np.int64))
    return _register(uri, name, alias, model, example, signature, x)


def _register(uri: str, name: str, alias: str | None, model: Any, example: pd.DataFrame,
              signature: Any, reference: pd.DataFrame) -> str:
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    # MLflow remembers the active experiment id process-wide: after tests that used another
    # server (tests/ml) it would name an experiment this server does not have.
    mlflow.set_experiment("serving-tests")
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(model, name="model", signature=signature, input_example=example,
                                        serialization_format="cloudpickle", pip_requirements=[])
        with tempfile.TemporaryDirectory() as tmp:
            ref = Path(tmp) / "reference.csv"
            reference.to_csv(ref, index=False)
            mlflow.log_artifact(str(ref), artifact_path="drift")
    version = str(mlflow.register_model(info.model_uri, name).version)
    if alias:
        client.set_registered_model_alias(name, alias, version)
    return version
