"""HTTP routes, one module per area. Each route declares the roles allowed (``Require``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request, Response
from pydantic import BaseModel

from nenguide.api.errors import ErrorEnvelope
from nenguide.store import Database


async def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


DB = Annotated[Database, Depends(get_db)]

_E = {"model": ErrorEnvelope}
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {**_E, "description": "Malformed request: the body could not be read"},
    401: {**_E, "description": "Not logged in, or the session has ended"},
    403: {**_E, "description": "Your role may not do this"},
    404: {**_E, "description": "No such record"},
    409: {**_E, "description": "Conflict: edited a stale version, or a duplicate"},
    413: {**_E, "description": "The request body is larger than the limit"},
    422: {**_E, "description": "Invalid input: 'fields' names each problem"},
    500: {**_E, "description": "Server error; nothing was changed"},
}


def out(model: BaseModel) -> Response:
    """The model as JSON, skipping FastAPI's second validation of a model already validated
    (the route's ``response_model`` still documents it)."""
    return Response(model.model_dump_json(), media_type="application/json")
