"""The platform's training workload.

- ``ml.data``: seeded synthetic retail demand and the bundled iris set, with schemas.
- ``ml.tasks``: per-task split, scikit-learn pipeline and metrics.
- ``ml.train``: train, log to MLflow, register, promotion gate on the ``champion`` alias.
- ``ml.drift``: vectorised KS + PSI drift statistics with multiple-testing correction.
- ``ml.retrain``: retrain when the serving app reports drift.
- ``ml.launch``: run the training locally, on SageMaker or on Azure ML from stack outputs.
- ``python -m ml``: the CLI over all of the above (``ml.cli``).
"""
