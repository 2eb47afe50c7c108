"""Helper of benchmarks/drift_verdict.py, run in its own environment (alibi-detect, evidently):
reads the windows .npz, prints one JSON line {"case|window": {"alibi_ksdrift": rate,
"evidently_preset": rate}}. Not imported by the project."""

from __future__ import annotations

import json
import sys
import warnings

import numpy as np
import pandas as pd

warnings.filterwarnings("ignore")


def main() -> None:
    path, names = sys.argv[1], sys.argv[2].split(",")
    data = np.load(path)
    ref = data["reference"]
    from alibi_detect.cd import KSDrift
    from evidently import Report
    from evidently.presets import DataDriftPreset

    ks = KSDrift(ref.astype(np.float32), p_val=0.05)
    ref_df = pd.DataFrame(ref, columns=names)
    out = {}
    for key in data.files:
        if key == "reference":
            continue
        wins = data[key]
        alibi = [bool(ks.predict(w.astype(np.float32))["data"]["is_drift"]) for w in wins]
        flags = []
        for w in wins:
            snap = Report([DataDriftPreset()]).run(current_data=pd.DataFrame(w, columns=names), reference_data=ref_df)
            result = snap.dict()["metrics"][0]["value"]  # DriftedColumnsCount: {"count", "share"}
            flags.append(float(result["share"]) >= 0.5)
        out[key] = {"alibi_ksdrift": float(np.mean(alibi)), "evidently_preset": float(np.mean(flags))}
        print(f"{key}: {out[key]}", file=sys.stderr, flush=True)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
