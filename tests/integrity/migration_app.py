"""An app on a scratch database of its own (SQLite, or a new database on TEST_DATABASE_URL's server), for
tests that walk the migrations."""

from contextlib import contextmanager

from crm import create_app
from crm.config import Config
from crm.extensions import db
from tests.load.harness import scratch_database


@contextmanager
def migration_app(tmp_path):
    """The app, inside its app context, on an empty scratch database; dropped afterwards."""
    with scratch_database(tmp_path) as url:
        class MigrationConfig(Config):
            SQLALCHEMY_DATABASE_URI = url
            SECRET_KEY = "migration-test"
            ARGON2_TIME_COST, ARGON2_MEMORY_COST = 1, 8 * 1024

        app = create_app(MigrationConfig)
        with app.app_context():
            try:
                yield app
            finally:
                db.session.remove()
                db.engine.dispose()
