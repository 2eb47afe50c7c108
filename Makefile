# The README's two commands: `make demo` (the main job) and `make test` (the tests).
.PHONY: bootstrap demo test plan e2e

# scripts/bootstrap.sh installs uv and promtool here when the machine lacks them.
MLOPS_TOOLS_DIR ?= $(or $(XDG_DATA_HOME),$(HOME)/.local/share)/mlops-platform
export MLOPS_TOOLS_DIR
export PATH := $(MLOPS_TOOLS_DIR)/bin:$(PATH)

bootstrap:
	@bash scripts/bootstrap.sh

demo: bootstrap
	uv run --frozen python scripts/local_loop.py

test: bootstrap
	uv run --frozen ruff check components contract stacks tests/components tests/stacks tests/policies/test_type_tokens.py
	uv run --frozen mypy
	uv run --frozen pytest --durations=15

plan: bootstrap
	uv run --frozen python -m stacks.plan dev

# The end-to-end tier (README "End-to-end tier"): real Pulumi engine on a 127.0.0.1 control plane.
e2e: bootstrap
	bash scripts/e2e/run
