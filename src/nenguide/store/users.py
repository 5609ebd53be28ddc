"""Users and login sessions (password hashes come in already hashed: see
:mod:`nenguide.store.accounts` for the login service, throttling and the password policy)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from nenguide.store import models as m
from nenguide.store.audit import audit
from nenguide.store.common import Actor, field, iso, now
from nenguide.store.errors import Conflict, Invalid, NotFound
from nenguide.store.records import UserDoc, as_doc
from nenguide.store.vocab import ROLES


def create_user(
    s: Session,
    actor: Actor,
    *,
    username: str,
    role: str,
    password_hash: str,
    display_name: str = "",
) -> dict[str, Any]:
    if role not in ROLES:
        raise Invalid(
            f"unknown role {role!r}",
            [field("role", f"unknown role {role!r}", role, ", ".join(ROLES))],
        )
    if s.scalar(select(m.User.id).where(m.User.username == username)) is not None:
        raise Conflict(f"a user named {username!r} already exists; choose another name")
    t = now()
    u = m.User(
        username=username,
        display_name=display_name,
        role=role,
        password_hash=password_hash,
        active=True,
        created_at=t,
        password_changed_at=t,
    )
    s.add(u)
    s.flush()
    doc = as_doc(UserDoc, u)
    audit(s, actor, "user.create", "user", username, after=doc)
    return doc


def user_record(u: m.User) -> dict[str, Any]:
    """The user as a document (no password hash)."""
    return as_doc(UserDoc, u)


def get_user(s: Session, username: str) -> m.User | None:
    return s.scalar(select(m.User).where(m.User.username == username))


def list_users(s: Session) -> list[dict[str, Any]]:
    return [as_doc(UserDoc, u) for u in s.scalars(select(m.User).order_by(m.User.username))]


def update_user(
    s: Session,
    actor: Actor,
    username: str,
    *,
    role: str | None = None,
    active: bool | None = None,
    display_name: str | None = None,
    password_hash: str | None = None,
) -> dict[str, Any]:
    if username == actor.username and (active is False or (role and role != "admin")):
        raise Conflict(
            "you cannot disable your own account or remove your own admin role; ask another admin"
        )
    u = get_user(s, username)
    if u is None:
        raise NotFound("user", username)
    before = as_doc(UserDoc, u)
    if role is not None:
        if role not in ROLES:
            raise Invalid(
                f"unknown role {role!r}",
                [field("role", f"unknown role {role!r}", role, ", ".join(ROLES))],
            )
        u.role = role
    if active is not None:
        u.active = active
    if display_name is not None:
        u.display_name = display_name
    if password_hash is not None:
        u.password_hash = password_hash
        u.password_changed_at = now()
    if active is False or password_hash is not None or role is not None:
        # Changing who someone is or how they log in ends their current sessions.
        s.execute(
            update(m.AuthSession)
            .where(m.AuthSession.user_id == u.id, m.AuthSession.revoked_at.is_(None))
            .values(revoked_at=now())
        )
    s.flush()
    after = as_doc(UserDoc, u)
    if password_hash is not None:
        after = {**after, "password": "changed"}
    audit(s, actor, "user.update", "user", username, before=before, after=after)
    return as_doc(UserDoc, u)


def create_session(
    s: Session, actor: Actor, user: m.User, token_hash: str, ttl: dt.timedelta
) -> dt.datetime:
    t = now()
    expires = t + ttl
    s.add(m.AuthSession(token_hash=token_hash, user_id=user.id, created_at=t, expires_at=expires))
    audit(s, actor, "auth.login", "user", user.username, after={"expires_at": iso(expires)})
    return expires


def session_user(s: Session, token_hash: str) -> m.User | None:
    """The active user of an unexpired, unrevoked session, or None."""
    row = s.execute(
        select(m.User, m.AuthSession.expires_at)
        .join(m.AuthSession, m.AuthSession.user_id == m.User.id)
        .where(m.AuthSession.token_hash == token_hash, m.AuthSession.revoked_at.is_(None))
    ).first()
    if row is None:
        return None
    user, expires = row
    if expires <= now() or not user.active:
        return None
    return user


def revoke_session(s: Session, actor: Actor, token_hash: str) -> None:
    s.execute(
        update(m.AuthSession)
        .where(m.AuthSession.token_hash == token_hash, m.AuthSession.revoked_at.is_(None))
        .values(revoked_at=now())
    )
    audit(s, actor, "auth.logout", "user", actor.username)
