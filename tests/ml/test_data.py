"""ml.data: the synthetic demand generator, the schema check and the iris frame."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.data import (
    DEMAND_FEATURES,
    DEMAND_SCHEMA,
    DEMAND_TARGET,
    IRIS_FEATURES,
    IRIS_SCHEMA,
    SchemaError,
    generate_demand,
    load_iris_frame,
    validate_frame,
)


def test_demand_is_reproducible_for_a_seed_and_differs_across_seeds():
    a = generate_demand(2_000, seed=7)
    b = generate_demand(2_000, seed=7)
    c = generate_demand(2_000, seed=8)
    pd.testing.assert_frame_equal(a, b)
    assert not a[DEMAND_TARGET].equals(c[DEMAND_TARGET])


def test_demand_matches_its_documented_schema():
    frame = generate_demand(5_000, seed=1)
    assert list(frame.columns) == [c.name for c in DEMAND_SCHEMA]
    assert validate_frame(frame, DEMAND_SCHEMA) is frame
    assert set(DEMAND_FEATURES) | {DEMAND_TARGET} <= set(frame.columns)
    assert len(frame) == 5_000
    assert (frame[DEMAND_TARGET] >= 0).all()
    assert (frame["price"] > 0).all()
    assert set(frame["promo"].unique()) <= {0, 1}


def test_demand_calendar_columns_agree_with_the_date():
    frame = generate_demand(3_000, seed=2)
    assert (frame["date"].dt.day_of_week == frame["day_of_week"]).all()
    assert (frame["date"].dt.day_of_year == frame["day_of_year"]).all()
    assert frame["date"].is_monotonic_increasing


def test_demand_rows_are_distinct_panel_cells():
    frame = generate_demand(20_000, seed=3, n_stores=5, n_items=10, n_days=400)
    assert not frame.duplicated(["date", "store_id", "item_id"]).any()
    assert frame["store_id"].between(0, 4).all() and frame["item_id"].between(0, 9).all()


def test_demand_carries_promotion_weekday_and_price_effects():
    frame = generate_demand(200_000, seed=4, noise=False)
    by_promo = frame.groupby("promo")[DEMAND_TARGET].mean()
    assert by_promo[1] > 1.3 * by_promo[0]
    weekend = frame["day_of_week"] >= 5
    assert frame.loc[weekend, DEMAND_TARGET].mean() > frame.loc[~weekend, DEMAND_TARGET].mean()
    # Within one item and no promotion, a higher price sells less (negative elasticity).
    one = frame[(frame["item_id"] == 0) & (frame["promo"] == 0)]
    assert np.corrcoef(one["price"], one[DEMAND_TARGET] / one[DEMAND_TARGET].mean())[0, 1] < 0


def test_demand_refuses_more_rows_than_the_panel_holds():
    with pytest.raises(ValueError, match="exceeds the panel size 2 stores x 3 items x 4 days = 24"):
        generate_demand(25, n_stores=2, n_items=3, n_days=4)
    with pytest.raises(ValueError, match="rows must be >= 1"):
        generate_demand(0)


def test_validate_frame_names_missing_and_mistyped_columns_together():
    frame = generate_demand(100, seed=0).drop(columns=["promo", "item_id"])
    frame["price"] = frame["price"].astype(str)
    frame["store_id"] = frame["store_id"].astype(float)
    with pytest.raises(SchemaError) as err:
        validate_frame(frame, DEMAND_SCHEMA)
    message = str(err.value)
    assert "missing columns: item_id, promo" in message
    assert "store_id (expected integer, got float64)" in message
    assert "price (expected float, got " in message


def test_validate_frame_rejects_non_frames_and_accepts_extra_columns():
    with pytest.raises(SchemaError, match="expected a pandas DataFrame, got dict"):
        validate_frame({"a": [1]}, IRIS_SCHEMA)
    frame = load_iris_frame().assign(extra="x")
    assert validate_frame(frame, IRIS_SCHEMA) is frame


def test_iris_frame_is_the_bundled_set():
    frame = load_iris_frame()
    assert frame.shape == (150, len(IRIS_FEATURES) + 1)
    assert frame["species"].value_counts().to_dict() == {0: 50, 1: 50, 2: 50}
    validate_frame(frame, IRIS_SCHEMA)
