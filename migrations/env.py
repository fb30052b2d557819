"""Alembic environment for Flask-SQLAlchemy 3: the app's engine and metadata."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

config = context.config
if config.config_file_name and not logging.getLogger().handlers:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

target_db = current_app.extensions["migrate"].db
engine = target_db.engine
config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))


def render_item(type_, obj, autogen_context):
    """Our column types render as the plain SQL types they store."""
    from crm.enums import FlagType
    if type_ == "type" and isinstance(obj, FlagType):
        return "sa.Integer()"
    return False


def run_migrations_offline():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_db.metadata,
                      literal_binds=True, render_as_batch=True, render_item=render_item)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    def process_revision_directives(context, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")

    conf_args = dict(current_app.extensions["migrate"].configure_args)
    conf_args.setdefault("process_revision_directives", process_revision_directives)
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Batch mode rebuilds a table (copy, DROP, rename). With foreign keys on, that DROP would delete or
            # refuse the rows that point at it (ON DELETE CASCADE: a member table rebuild would take every note
            # with it). The pragma only takes effect outside a transaction: set on the raw connection first.
            _sqlite_pragma(connection, "PRAGMA foreign_keys=OFF")
        try:
            context.configure(connection=connection, target_metadata=target_db.metadata,
                              render_item=render_item, **conf_args)
            with context.begin_transaction():
                context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                connection.commit()
                if broken:
                    raise RuntimeError("Foreign keys broken by the migration (table, rowid, parent, fk): "
                                       + "; ".join(map(str, broken[:20])))
        finally:
            if sqlite:
                connection.rollback()
                _sqlite_pragma(connection, "PRAGMA foreign_keys=ON")


def _sqlite_pragma(connection, statement):
    raw = connection.connection.driver_connection
    if raw.in_transaction:
        raw.commit()
    raw.execute(statement)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
