from contacts.store import Base
from crm_platform.migrations import run_migrations_online

run_migrations_online(Base.metadata)
