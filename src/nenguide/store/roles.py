"""PostgreSQL roles: the service runs as a role that does not own the tables, so it cannot
disable the audit log's trigger or rewrite it; migrations run as the owner. See
docs/security.md ("Database roles")."""

from __future__ import annotations

from sqlalchemy import text

from nenguide.store.db import Database
from nenguide.store.errors import Invalid
from nenguide.store.models import Base

#: Tables the service may only read and append to.
APPEND_ONLY = ("audit_log",)


def grant_app_role(db: Database, role: str) -> list[str]:
    """Grant ``role`` what the service needs and no more; returns the statements run. Run as
    the owner of the tables (the role that ran ``nenguide db upgrade``)."""
    if db.dialect != "postgresql":
        raise Invalid(
            "database roles exist on PostgreSQL only; on SQLite, protect the database file "
            "(owner-only permissions) and verify the audit chain"
        )
    done: list[str] = []
    with db.engine.begin() as c:
        owner = c.execute(
            text("SELECT tableowner FROM pg_tables WHERE tablename = 'audit_log'")
        ).scalar()
        if owner is None:
            raise Invalid("the schema is not there yet: run 'nenguide db upgrade' first")
        if owner == role:
            raise Invalid(
                f"{role!r} owns the tables; the service must run as another role (create one "
                "with CREATE ROLE ... LOGIN) so that it cannot disable the audit log's trigger"
            )
        q = c.dialect.identifier_preparer.quote(role)
        statements = [f"GRANT USAGE ON SCHEMA public TO {q}"]
        for table in sorted(Base.metadata.tables):
            rights = "SELECT, INSERT" if table in APPEND_ONLY else "SELECT, INSERT, UPDATE, DELETE"
            statements.append(f"GRANT {rights} ON TABLE {table} TO {q}")
        statements += [
            f"REVOKE UPDATE, DELETE, TRUNCATE ON TABLE audit_log FROM {q}",
            f"GRANT SELECT ON TABLE alembic_version TO {q}",
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {q}",
        ]
        for stmt in statements:
            c.exec_driver_sql(stmt)
            done.append(stmt)
    return done


def owns_audit_log(db: Database) -> bool:
    """True when the connected PostgreSQL role owns the audit log (it could disable its
    trigger); always False on SQLite."""
    if db.dialect != "postgresql":
        return False
    with db.engine.connect() as c:
        return bool(
            c.execute(
                text(
                    "SELECT tableowner = current_user FROM pg_tables WHERE tablename = 'audit_log'"
                )
            ).scalar()
        )
