"""Page: the site parameters of this service (docs/site-parameters.md), read by every role and
edited by an administrator.

Every setting of the site-parameter file is on the form: per item (drug, tracer, service) its
availability, reimbursement, note and sources; the ``unavailable`` shorthand; the PRRT Krenning
threshold and the small non-functional pNET settings. Each item row shows the value in effect
(the hospital's entry, else the package default); a row is written to the file only when it
differs from the package default, because an item entry replaces the default entry as a whole.
A refused form is shown again as typed, each error beside its field, nothing saved.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.responses import RedirectResponse, Response

from nenguide.api.auth import READ
from nenguide.model.site import Availability, SiteParameters
from nenguide.report.texts import Texts
from nenguide.store.vocab import ADMIN
from nenguide.web import data, render, session

router = APIRouter(include_in_schema=False)

TRI = {"yes": True, "no": False, "unknown": None}
SMALL_DEFAULTS = ("surveillance", "surgery")
KRENNING = ("1", "2", "3", "4")


def _tri_code(v: bool | None) -> str:
    return "yes" if v is True else "no" if v is False else "unknown"


def _package(request: Request) -> SiteParameters:
    """The package defaults (``site.yaml`` of the knowledge package)."""
    doc = request.app.state.kb.documents.get("site.yaml") or {}
    return SiteParameters.model_validate(doc)


def known_items(request: Request) -> list[str]:
    """Item codes the package knows: its site defaults and every option's ``requires``."""
    kb = request.app.state.kb
    codes = set(_package(request).items)
    for o in (kb.documents.get("options.yaml") or {}).get("options", []):
        codes.update(str(r) for r in o.get("requires") or [])
    return sorted(codes)


def _row(code: str, entry: Availability | None, default: Availability | None) -> dict[str, Any]:
    shown = entry or default or Availability()
    return {
        "code": code,
        "available": _tri_code(shown.available),
        "reimbursed": _tri_code(shown.reimbursed),
        "note": shown.note or "",
        "sources": ", ".join(shown.sources),
        "default": default,
        "own": entry is not None,
    }


def _values(request: Request, current: SiteParameters | None) -> dict[str, Any]:
    """The form's values from the saved file (or the package defaults when there is none)."""
    package = _package(request)
    cur = current or SiteParameters()
    codes = sorted(set(known_items(request)) | set(cur.items))
    return {
        "name": cur.name or "",
        "rows": [_row(c, cur.items.get(c), package.items.get(c)) for c in codes],
        "unavailable": sorted(cur.unavailable),
        "prrt_krenning_min": "" if cur.prrt_krenning_min is None else str(cur.prrt_krenning_min),
        "nfpnet_boundary_cm": ""
        if cur.nfpnet_boundary_cm is None
        else f"{cur.nfpnet_boundary_cm:g}",
        "nfpnet_boundary_inclusive": ""
        if cur.nfpnet_boundary_inclusive is None
        else _tri_code(cur.nfpnet_boundary_inclusive),
        "nfpnet_small_default": cur.nfpnet_small_default or "",
    }


def _page(
    request: Request,
    user: session.WebUser,
    values: dict[str, Any],
    *,
    errors: dict[str, str] | None = None,
    saved: bool = False,
    status: int = 200,
) -> Response:
    return render.page(
        request,
        "site.html",
        user,
        vals=values,
        package=_package(request),
        errors=errors or {},
        saved=saved,
        status=status,
        krenning=KRENNING,
        small_defaults=SMALL_DEFAULTS,
        path_file=str(request.app.state.site_params.path),
    )


@router.get("/site")
def site(request: Request, saved: int = 0) -> Response:
    user = session.require(request, READ)
    values = _values(request, request.app.state.site_params.current())
    return _page(request, user, values, saved=bool(saved))


def parse_form(
    request: Request, form: dict[str, list[str]], tx: Texts
) -> tuple[dict[str, Any], SiteParameters | None, dict[str, str]]:
    """(the form's values as typed, the parameters or None, errors by field name)."""
    package = _package(request)
    sources = set(request.app.state.kb.bibliography)
    known = set(known_items(request))
    before = request.app.state.site_params.current() or SiteParameters()

    current = _values(request, request.app.state.site_params.current())
    kept = {r["code"]: r for r in current["rows"]}

    def one(k: str) -> str:
        # a field the post does not carry keeps its value (a client may post a few fields)
        if k not in form:
            return str(current.get(k, ""))
        return (form.get(k) or [""])[0].strip()

    errors: dict[str, str] = {}
    codes = sorted(known | set(before.items))
    rows: list[dict[str, Any]] = []
    items: dict[str, Availability] = {}
    for code in codes:
        p = f"item.{code}"
        old = kept.get(code) or _row(code, None, package.items.get(code))

        def cell(k: str, p: str = p, old: dict[str, Any] = old) -> str:
            return (form[f"{p}.{k}"] or [""])[0].strip() if f"{p}.{k}" in form else str(old[k])

        row: dict[str, Any] = {
            "code": code,
            "available": cell("available") or "unknown",
            "reimbursed": cell("reimbursed") or "unknown",
            "note": cell("note"),
            "sources": cell("sources"),
            "default": package.items.get(code),
            "own": code in before.items,
        }
        rows.append(row)
        for k in ("available", "reimbursed"):
            if row[k] not in TRI:
                errors[f"{p}.{k}"] = tx.t("site.err.choice")
        keys = [s.strip() for s in row["sources"].replace("，", ",").split(",") if s.strip()]
        unknown = [s for s in keys if s not in sources]
        if unknown:
            errors[f"{p}.sources"] = tx.t("site.err.source", keys=", ".join(unknown))
        if any(f"{p}.{k}" in errors for k in ("available", "reimbursed", "sources")):
            continue
        entry = Availability(
            available=TRI[row["available"]],
            reimbursed=TRI[row["reimbursed"]],
            note=row["note"] or None,
            sources=tuple(keys),
        )
        default = package.items.get(code) or Availability()
        if entry != default or code not in known:
            items[code] = entry
    if "unavailable_shown" in form:  # the form's check boxes: none ticked is an empty list
        unavailable = [c.strip() for c in form.get("unavailable", []) if c.strip()]
    else:
        unavailable = list(current["unavailable"])
    bad = [c for c in unavailable if c not in known]
    if bad:
        errors["unavailable"] = tx.t("site.err.unavailable", codes=", ".join(bad))
    values: dict[str, Any] = {
        "name": one("name"),
        "rows": rows,
        "unavailable": unavailable,
        "prrt_krenning_min": one("prrt_krenning_min"),
        "nfpnet_boundary_cm": one("nfpnet_boundary_cm"),
        "nfpnet_boundary_inclusive": one("nfpnet_boundary_inclusive"),
        "nfpnet_small_default": one("nfpnet_small_default"),
    }
    raw: dict[str, Any] = {"name": values["name"] or None, "items": items}
    if unavailable and not bad:
        raw["unavailable"] = unavailable
    k = str(values["prrt_krenning_min"])
    if k and k not in KRENNING:
        errors["prrt_krenning_min"] = tx.t("site.err.krenning")
    elif k:
        raw["prrt_krenning_min"] = int(k)
    b = str(values["nfpnet_boundary_cm"]).replace(",", ".")
    if b:
        try:
            cm = float(b)
        except ValueError:
            cm = float("nan")
        if not 0 < cm <= 10:  # also refuses nan
            errors["nfpnet_boundary_cm"] = tx.t("site.err.boundary")
        else:
            raw["nfpnet_boundary_cm"] = cm
    inc = values["nfpnet_boundary_inclusive"]
    if inc in ("yes", "no"):
        raw["nfpnet_boundary_inclusive"] = inc == "yes"
    elif inc:
        errors["nfpnet_boundary_inclusive"] = tx.t("site.err.choice")
    small = values["nfpnet_small_default"]
    if small in SMALL_DEFAULTS:
        raw["nfpnet_small_default"] = small
    elif small:
        errors["nfpnet_small_default"] = tx.t("site.err.choice")
    if errors:
        return values, None, errors
    try:
        return values, SiteParameters.model_validate(raw), {}
    except ValidationError as exc:  # the schema's own limits, should the checks above miss one
        for e in exc.errors():
            errors[".".join(str(x) for x in e["loc"])] = tx.t("err.other", message=e["msg"])
        return values, None, errors


@router.post("/site")
async def site_save(request: Request) -> Response:
    user = session.require(request, frozenset({ADMIN}))
    await session.check_csrf(request, user)
    form = await session.form_lists(request)
    tx = render.texts(request, user)
    values, params, errors = parse_form(request, form, tx)
    if params is None:
        return _page(request, user, values, errors=errors, status=422)
    before = request.app.state.site_params.current()
    request.app.state.site_params.save(params)
    data.audit(
        request.app.state.db,
        user.actor(),
        "site_parameters.update",
        "site_parameters",
        "site",
        before=before.model_dump(mode="json") if before else None,
        after=params.model_dump(mode="json"),
    )
    return RedirectResponse("/site?saved=1", status_code=303)
