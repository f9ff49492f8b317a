from crm_platform.migrations import run_migrations_online
from gateway.schema import Base

run_migrations_online(Base.metadata)
