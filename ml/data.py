"""Data sets for the training workload: synthetic retail demand and sklearn's bundled iris.

Nothing is downloaded. The demand set is generated from seeds, vectorised with numpy, so the
same ``(rows, seed, world_seed)`` always gives the same frame (1M rows take about a second).

Demand data set
---------------
A random sample, without replacement, of the ``stores x items x days`` panel. Each row is one
store selling one item on one day. The expected demand of a row is

    base[item] * store_factor[store] * weekday[dow] * season(day_of_year)
        * (price / list_price[item]) ** -elasticity * (1 + promo_lift * promo)

and ``units_sold`` is a Poisson draw around it (the noise). ``DEMAND_SCHEMA`` documents the
columns; ``DEMAND_FEATURES`` are the model inputs (all numeric, so the same columns serve as
the drift reference) and ``DEMAND_TARGET`` is the label.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "DEMAND_FEATURES",
    "DEMAND_SCHEMA",
    "DEMAND_TARGET",
    "IRIS_FEATURES",
    "IRIS_SCHEMA",
    "IRIS_TARGET",
    "Column",
    "SchemaError",
    "generate_demand",
    "load_iris_frame",
    "validate_frame",
]


@dataclass(frozen=True)
class Column:
    """One documented column: its name, the numpy dtype kind it must have, and what it means.

    ``kind`` is a numpy dtype kind: ``"i"`` signed integer, ``"f"`` float, ``"M"`` datetime64.
    """

    name: str
    kind: str
    description: str


_KIND_NAMES = {"i": "integer", "u": "unsigned integer", "f": "float", "M": "datetime64", "b": "bool"}

DEMAND_SCHEMA: tuple[Column, ...] = (
    Column("date", "M", "calendar day of the sale (datetime64[ns], midnight)"),
    Column("store_id", "i", "store identifier, 0 .. n_stores-1"),
    Column("item_id", "i", "item identifier, 0 .. n_items-1"),
    Column("day_of_week", "i", "0 = Monday .. 6 = Sunday"),
    Column("day_of_year", "i", "1 .. 366"),
    Column("price", "f", "shelf price that day, after any promotion discount (currency units)"),
    Column("promo", "i", "1 when the item is on promotion in that store that day, else 0"),
    Column("units_sold", "i", "units sold (the target), a Poisson draw, >= 0"),
)
DEMAND_FEATURES: tuple[str, ...] = (
    "store_id",
    "item_id",
    "day_of_week",
    "day_of_year",
    "price",
    "promo",
)
DEMAND_TARGET = "units_sold"

IRIS_FEATURES: tuple[str, ...] = (
    "sepal_length",
    "sepal_width",
    "petal_length",
    "petal_width",
)
IRIS_TARGET = "species"
IRIS_SCHEMA: tuple[Column, ...] = tuple(
    Column(name, "f", f"{name.replace('_', ' ')} in cm") for name in IRIS_FEATURES
) + (Column(IRIS_TARGET, "i", "0 setosa, 1 versicolor, 2 virginica"),)


class SchemaError(ValueError):
    """A frame does not match a documented schema; the message names every offending column."""


def validate_frame(df: pd.DataFrame, schema: tuple[Column, ...] | list[Column]) -> pd.DataFrame:
    """Check that ``df`` has every column of ``schema`` with the right dtype kind.

    Extra columns are allowed. Returns ``df`` unchanged so the call can be chained.
    Raises ``SchemaError`` naming all missing and all mistyped columns at once.
    """
    if not isinstance(df, pd.DataFrame):
        raise SchemaError(f"expected a pandas DataFrame, got {type(df).__name__}")
    missing = [c.name for c in schema if c.name not in df.columns]
    mistyped = []
    for col in schema:
        if col.name not in df.columns:
            continue
        dtype = df[col.name].dtype
        kind = getattr(dtype, "kind", "O")
        ok = kind == col.kind or (col.kind == "i" and kind == "u")
        if not ok:
            mistyped.append(f"{col.name} (expected {_KIND_NAMES.get(col.kind, col.kind)}, got {dtype})")
    problems = []
    if missing:
        problems.append("missing columns: " + ", ".join(missing))
    if mistyped:
        problems.append("mistyped columns: " + ", ".join(mistyped))
    if problems:
        raise SchemaError("; ".join(problems))
    return df


def generate_demand(
    rows: int = 100_000,
    seed: int = 0,
    *,
    world_seed: int = 0,
    n_stores: int = 20,
    n_items: int = 100,
    n_days: int = 730,
    start: str = "2024-01-01",
    promo_rate: float = 0.1,
    noise: bool = True,
) -> pd.DataFrame:
    """Generate ``rows`` rows of synthetic retail demand (see the module docstring).

    ``world_seed`` fixes the world: each store's and item's demand level, list price and price
    elasticity. ``seed`` draws the sample from it: which panel cells (without replacement),
    promotions, price jitter and the Poisson noise. Keeping the world fixed while the seed
    changes is what makes two training runs comparable on each other's held-out rows.
    Rows are sorted by date, store and item. ``noise=False`` returns the expected demand rounded to the
    nearest unit instead of a Poisson draw (useful to check the signal in isolation).
    """
    if rows < 1:
        raise ValueError(f"rows must be >= 1, got {rows}")
    if min(n_stores, n_items, n_days) < 1:
        raise ValueError("n_stores, n_items and n_days must all be >= 1")
    cells = n_stores * n_items * n_days
    if rows > cells:
        raise ValueError(
            f"rows={rows} exceeds the panel size {n_stores} stores x {n_items} items x "
            f"{n_days} days = {cells}; raise n_days, n_stores or n_items"
        )
    world = np.random.default_rng(world_seed)
    store_factor = world.lognormal(mean=0.0, sigma=0.3, size=n_stores)
    item_base = world.lognormal(mean=np.log(20.0), sigma=0.6, size=n_items)
    list_price = np.round(world.uniform(1.0, 30.0, size=n_items), 2)
    elasticity = world.uniform(0.8, 2.0, size=n_items)
    rng = np.random.default_rng(seed)
    promo_lift = 0.5
    weekday = np.array([0.9, 0.85, 0.9, 0.95, 1.1, 1.35, 1.2])

    cell = np.sort(rng.choice(cells, size=rows, replace=False))
    day, rest = np.divmod(cell, n_stores * n_items)
    store, item = np.divmod(rest, n_items)

    dates = np.datetime64(start, "D") + day.astype("timedelta64[D]")
    dates_ns = dates.astype("datetime64[ns]")
    # numpy: 1970-01-01 was a Thursday (3 with Monday = 0).
    day_of_week = (dates.astype(np.int64) + 3) % 7
    day_of_year = (dates - dates.astype("datetime64[Y]")).astype(np.int64) + 1

    promo = (rng.random(rows) < promo_rate).astype(np.int64)
    jitter = rng.normal(0.0, 0.03, size=rows)
    price = np.round(list_price[item] * (1.0 - 0.2 * promo) * (1.0 + jitter), 2)
    price = np.maximum(price, 0.01)

    season = 1.0 + 0.3 * np.sin(2.0 * np.pi * (day_of_year - 80) / 365.25)
    expected = (
        item_base[item]
        * store_factor[store]
        * weekday[day_of_week]
        * season
        * (price / list_price[item]) ** (-elasticity[item])
        * (1.0 + promo_lift * promo)
    )
    units = rng.poisson(expected) if noise else np.rint(expected)

    return pd.DataFrame(
        {
            "date": dates_ns,
            "store_id": store.astype(np.int64),
            "item_id": item.astype(np.int64),
            "day_of_week": day_of_week.astype(np.int64),
            "day_of_year": day_of_year.astype(np.int64),
            "price": price.astype(np.float64),
            "promo": promo,
            "units_sold": units.astype(np.int64),
        }
    )


def load_iris_frame() -> pd.DataFrame:
    """sklearn's bundled iris set as a frame with ``IRIS_SCHEMA`` columns (no download)."""
    from sklearn.datasets import load_iris

    bunch = load_iris()
    df = pd.DataFrame(np.asarray(bunch.data, dtype=np.float64), columns=list(IRIS_FEATURES))
    df[IRIS_TARGET] = np.asarray(bunch.target, dtype=np.int64)
    return df
