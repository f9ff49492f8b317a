# Shared pytest fixtures (real RabbitMQ vhosts, throw-away PostgreSQL databases, platform processes)
# live in the chassis so that every test tree uses the same ones.
pytest_plugins = ["crm_platform.testing.fixtures"]
