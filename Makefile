# The README's two commands: `make demo` (the main job) and `make test` (the tests).
.PHONY: bootstrap demo test plan e2e

bootstrap:
	@bash scripts/bootstrap.sh

demo: bootstrap
	uv run --frozen python scripts/local_loop.py

test: bootstrap
	uv run --frozen pytest

plan: bootstrap
	uv run --frozen python -m stacks.plan dev

# The end-to-end tier (README "End-to-end tier"): real Pulumi engine on a 127.0.0.1 control plane.
e2e: bootstrap
	bash scripts/e2e/run
