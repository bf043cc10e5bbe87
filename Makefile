# One entry point for chores. Each target installs what it needs (uv, the locked environment).
UV := scripts/uv.sh
PORT ?= 8080
# The 15 slowest tests are printed after each run (CI output too); override to silence.
PYTEST_ARGS ?= --durations=15

.PHONY: help demo test test-fast test-vllm lint bench sync browser oidc-provider

help:  ## List the targets and what each does
	@grep -E '^[a-z][a-z-]*:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## /\1\t/' | expand -t 14

sync:  ## Install the locked environment (uv sync --frozen), the simulated vLLM included
	@$(UV) sync --frozen --quiet --extra demo

demo: sync  ## Run the gateway with a simulated vLLM, a sample department and key
	@$(UV) run --frozen hygie demo --port $(PORT)

test: sync browser oidc-provider  ## The whole test suite (SQLite, PostgreSQL, Redis, helm chart, browser, OIDC)
	@scripts/install-helm.sh >/dev/null
	@$(UV) run --frozen pytest $(PYTEST_ARGS)

test-fast: sync  ## The suite without the tests marked slow (what CI and `make test` add back)
	@$(UV) run --frozen pytest -m "not slow" $(PYTEST_ARGS)

browser:  ## Debian's headless Chromium for the console's browser tests (apt; no download)
	@scripts/install-browser.sh

# The real OpenID provider of tests/identity (npm ci, pinned by its package-lock.json). Without
# Node.js the identity tests are skipped with their reason; under CI=true they fail instead.
oidc-provider:  ## Install the test OpenID provider (Node.js) into .oidc-test-provider
	@if command -v node >/dev/null && command -v npm >/dev/null; then \
		OIDC_USE_SYSTEM_NODE=$${OIDC_USE_SYSTEM_NODE:-1} bash tests/identity/oidc/install.sh .oidc-test-provider >/dev/null; \
	elif [ "$$CI" = "true" ]; then echo "oidc-provider: Node.js and npm are required under CI" >&2; exit 1; \
	else echo "oidc-provider: skipped (no Node.js/npm here); the single sign-on tests will be skipped"; fi

test-vllm: sync  ## Opt-in: the same path against a real vLLM (see tests/real_vllm/README.md)
	@$(UV) run --frozen pytest -m vllm tests/real_vllm $(PYTEST_ARGS)

lint: sync  ## ruff check, ruff format --check and mypy (strict)
	@$(UV) run --frozen ruff check .
	@$(UV) run --frozen ruff format --check .
	@$(UV) run --frozen mypy

bench: sync  ## Hygie vs direct vs LiteLLM proxy (needs ../shared/bench, nginx, wrk)
	@tests/benchmarks/run.sh $(BENCH_ARGS)
