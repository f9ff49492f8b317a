# The two commands of the README: `make run` (the platform, embedded SQLite per service) and `make test`.
.PHONY: run test setup rabbitmq lint format protos bench clean

UV := .tools/bin/uv
PY := .venv/bin/python

run: setup rabbitmq
	$(PY) -m crm_devrun

test: setup rabbitmq
	@scripts/ensure_postgres.sh
	@scripts/ensure_pgbouncer.sh
	@scripts/install_deploy_tools.sh
	$(PY) scripts/gen_protos.py --check
	$(PY) scripts/check_contracts.py
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/pytest -n 2 --dist loadfile --no-loadscope-reorder

setup:
	@scripts/bootstrap.sh

rabbitmq:
	@scripts/ensure_rabbitmq.sh

lint: setup
	.venv/bin/ruff check . && .venv/bin/ruff format --check .

format: setup
	.venv/bin/ruff check --fix . && .venv/bin/ruff format .

# Regenerates protos/python from protos/crm/**/*.proto (commit the result).
protos: setup
	$(PY) scripts/gen_protos.py

# wrk is the lighter load generator; without it the benchmark falls back to its Python generator.
bench: setup rabbitmq
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		apt-get install -y -qq --no-install-recommends wrk >/dev/null 2>&1; } || true
	$(PY) bench/run_all.py

clean:
	rm -rf var .pytest_cache .ruff_cache
