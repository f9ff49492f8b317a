# Shared pytest fixtures (real RabbitMQ vhosts, throw-away PostgreSQL databases, platform processes)
# live in the chassis so that every test tree uses the same ones.
pytest_plugins = ["crm_platform.testing.fixtures"]

# The longest modules first. `make test` runs two pytest processes (xdist, whole files each), and a long
# module handed out last would run alone at the end of the run. xdist re-sorts files by their number of
# tests unless told `--no-loadscope-reorder` (the Makefile says it): sorted so, the one-test schemathesis
# module was handed out last and ran alone for its whole five to ten minutes.
LONGEST_FIRST = (
    "tests/security/",
    "tests/contract/test_schemathesis.py",
    "tests/fault/",
    "libs/crm_platform/tests/events/test_housekeeping.py",
    "tests/e2e/test_platform_on_postgres.py",
)


def pytest_collection_modifyitems(items: list) -> None:
    def rank(item) -> int:
        ranks = (i for i, prefix in enumerate(LONGEST_FIRST) if item.nodeid.startswith(prefix))
        return next(ranks, len(LONGEST_FIRST))

    items.sort(key=rank)  # stable: the usual order within each rank
