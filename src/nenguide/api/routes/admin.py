"""Users (admin) and the audit log (auditor, admin); health (public)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from nenguide import __version__, store
from nenguide.api import accounts
from nenguide.api.auth import AUDIT, USERS, Principal, Require
from nenguide.api.routes import DB, ERRORS
from nenguide.api.schemas import AuditList, AuditOut, Health, UserCreate, UserOut, UserUpdate

router = APIRouter(prefix="/api/v1", responses=ERRORS)

Admin = Annotated[Principal, Depends(Require(USERS, "manage users"))]
Auditor = Annotated[Principal, Depends(Require(AUDIT, "read the audit log"))]


@router.get("/health", response_model=Health, tags=["service"], openapi_extra={"security": []})
def health(request: Request, db: DB) -> Health:
    """Liveness and the database in use (no patient data, no login needed)."""
    return Health(
        status="ok",
        version=__version__,
        database=db.dialect,
        schema_revision=request.app.state.schema_revision,
    )


@router.get("/users", response_model=list[UserOut], tags=["users"])
def list_users(_: Admin, db: DB) -> list[UserOut]:
    with db.read() as s:
        return [UserOut.model_validate(u) for u in store.users.list_users(s)]


@router.post("/users", response_model=UserOut, status_code=201, tags=["users"])
def create_user(body: UserCreate, principal: Admin, db: DB, request: Request) -> UserOut:
    accounts.check_password(body.password, body.username)
    with db.write() as s:
        doc = store.users.create_user(
            s,
            principal.actor(),
            username=body.username,
            role=body.role,
            password_hash=accounts.hash_password(request.app.state, body.password),
            display_name=body.display_name,
        )
    return UserOut.model_validate(doc)


@router.patch("/users/{username}", response_model=UserOut, tags=["users"])
def update_user(
    username: str, body: UserUpdate, principal: Admin, db: DB, request: Request
) -> UserOut:
    """Change a user's role, name, password or disable the account (ends their sessions)."""
    if body.password is not None:
        accounts.check_password(body.password, username)
    with db.write() as s:
        doc = store.users.update_user(
            s,
            principal.actor(),
            username,
            role=body.role,
            active=body.active,
            display_name=body.display_name,
            password_hash=accounts.hash_password(request.app.state, body.password)
            if body.password
            else None,
        )
    request.app.state.session_cache.drop_user(username)
    return UserOut.model_validate(doc)


@router.get("/audit", response_model=AuditList, tags=["audit"])
def audit_log(
    _: Auditor,
    db: DB,
    entity_type: Annotated[str | None, Query(max_length=32)] = None,
    entity_id: Annotated[str | None, Query(max_length=64)] = None,
    actor: Annotated[str | None, Query(max_length=64)] = None,
    patient_id: Annotated[str | None, Query(max_length=36)] = None,
    after_id: Annotated[int | None, Query(ge=0, le=2**62)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AuditList:
    """Read the append-only audit log, oldest first (there is no way to change it)."""
    with db.read() as s:
        items = store.audit.list_audit(
            s,
            entity_type=entity_type,
            entity_id=entity_id,
            actor=actor,
            patient_id=patient_id,
            after_id=after_id,
            limit=limit,
        )
    return AuditList(
        items=[AuditOut.model_validate(i) for i in items],
        next_after_id=items[-1]["id"] if len(items) == limit else None,
    )
