# The README's two commands: `make demo` (the main job) and `make test` (the tests).
.PHONY: bootstrap demo test plan

# scripts/bootstrap.sh installs uv and promtool here when the machine lacks them.
MLOPS_TOOLS_DIR ?= $(or $(XDG_DATA_HOME),$(HOME)/.local/share)/mlops-platform
export MLOPS_TOOLS_DIR
export PATH := $(MLOPS_TOOLS_DIR)/bin:$(PATH)

bootstrap:
	@bash scripts/bootstrap.sh

demo: bootstrap
	uv run --frozen python scripts/local_loop.py

test: bootstrap
	uv run --frozen pytest

plan: bootstrap
	uv run --frozen python -m stacks.plan dev
