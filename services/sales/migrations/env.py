from crm_platform.migrations import run_migrations_online
from sales.store import Base

run_migrations_online(Base.metadata)
