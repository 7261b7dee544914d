"""Alembic environment of the store.

There is no alembic.ini: `healthscore.store.store.alembic_config` builds the config in code. The
store hands its open connection over in `config.attributes["connection"]`; otherwise (e.g.
`command.revision(cfg, autogenerate=True)` or `--sql` output) the `sqlalchemy.url` option is used.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from healthscore.store.tables import metadata

config = context.config


def _configure(**kwargs) -> None:
    context.configure(target_metadata=metadata, compare_type=True, **kwargs)
    with context.begin_transaction():
        context.run_migrations()


def _run_online(connection) -> None:
    # SQLite cannot ALTER most things in place; batch mode recreates the table instead.
    _configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")


if context.is_offline_mode():
    _configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True)
elif (conn := config.attributes.get("connection")) is not None:
    _run_online(conn)
else:
    url = config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("alembic: set sqlalchemy.url (healthscore.store.store.alembic_config does)")
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            _run_online(conn)
    finally:
        engine.dispose()
