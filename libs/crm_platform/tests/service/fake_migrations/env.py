from sqlalchemy import MetaData

from crm_platform.migrations import run_migrations_online

run_migrations_online(MetaData())
