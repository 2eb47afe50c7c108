"""mlops-platform's CrossGuard policy pack.

The rules live in importable modules, one per file, grouped by cloud (``aws/``, ``azure/``,
``kubernetes/``) plus ``common/`` for operations rules; :mod:`policies.registry` collects them.
``__main__.py`` only constructs the ``PolicyPack`` (that call serves gRPC and never returns), so
nothing imports it. :mod:`policies.runner` applies the same rules offline to the resources the
capture harness (``stacks/plan.py``) records.
"""
