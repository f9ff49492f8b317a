from crm_platform.migrations import run_migrations_online
from notifications.store import Base

run_migrations_online(Base.metadata)
