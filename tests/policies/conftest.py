"""Rules may read the stack config the CLI passes to a policy pack (``PULUMI_CONFIG``); tests
set every setting explicitly, so none leaks in from the environment."""

import pytest


@pytest.fixture(autouse=True)
def _no_stack_config_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PULUMI_CONFIG", raising=False)
