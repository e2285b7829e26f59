# The two commands of the README. Both set up what they need (cached outside the repository).
.PHONY: demo test lint chaos

demo:  ## bring up the stack, run the pipeline on the bundled real data, serve the results
	scripts/demo.sh

test:  ## set up, then run every test (unit, integration on the real stack, e2e, pants)
	scripts/test.sh

lint:  ## ruff + mypy + the import-boundary check, through Pants
	scripts/check_boundaries.py && ./pants lint check ::

chaos:  ## the fault harness: kill -9 each part of a private stack during a replay, reconcile exactly
	scripts/bootstrap.sh && "$${CRYPTOLAKE_HOME:-$${XDG_CACHE_HOME:-$$HOME/.cache}/cryptolake}/venv/bin/python" \
	  -m pytest -m chaos tests/chaos -p no:cacheprovider -s
