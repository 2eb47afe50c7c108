"""The platform's boundary contracts, as plain constants: no dependency beyond the standard library.

* :mod:`contract.serving` — the serving image's ports, routes, settings variables and metric
  names. ``serving/`` (the app) and ``components/`` (Kubernetes probes, SageMaker and Azure ML
  endpoint definitions, Prometheus rules, KQL queries) both import it; neither keeps a copy.
  ``serving.contract`` re-exports it for code written against the old path.

A Pulumi program, the serving image and the ML launchers can all import this package without
each other's dependencies (``tests/serving/test_packaging.py`` checks it stays stdlib-only).
"""
