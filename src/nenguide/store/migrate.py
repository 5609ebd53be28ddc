"""Schema migrations (Alembic), run from code so they work from an installed wheel.

``upgrade`` is what ``nenguide serve`` and ``nenguide db upgrade`` call. ``check`` tells a
server started without migrating whether the schema matches this version of nenguide.
"""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from nenguide.store.db import Database
from nenguide.store.errors import SchemaOutOfDate


def _config(db: Database) -> Config:
    cfg = _bare_config()
    cfg.set_main_option("sqlalchemy.url", db.url.replace("%", "%%"))
    return cfg


def upgrade(db: Database, revision: str = "head") -> None:
    cfg = _config(db)
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def downgrade(db: Database, revision: str = "-1") -> None:
    cfg = _config(db)
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def head() -> str:
    script = ScriptDirectory.from_config(_bare_config())
    h = script.get_current_head()
    assert h is not None
    return h


def _bare_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("nenguide.store") / "migrations"))
    return cfg


def current(db: Database) -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def check(db: Database) -> None:
    """Raise :class:`SchemaOutOfDate` unless the database is at this nenguide's head."""
    cur, want = current(db), head()
    if cur != want:
        raise SchemaOutOfDate(
            f"the database schema is at revision {cur or '(empty)'} but this nenguide needs "
            f"{want}: run 'nenguide db upgrade' (or start with 'nenguide serve', which upgrades)"
        )
