"""Pages: log in and out, language, patients, the case form and the assessment view."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.responses import RedirectResponse, Response

from nenguide import assess as run_assess
from nenguide.api.auth import CLINICAL_WRITE, PATIENT_WRITE, READ, Principal
from nenguide.api.errors import ApiError
from nenguide.api.routes import auth as api_auth
from nenguide.api.schemas import LoginIn
from nenguide.errors import parse_case
from nenguide.limits import MAX_FORM_ROWS
from nenguide.model.assessment import Assessment
from nenguide.report import html as report_html
from nenguide.report import svg
from nenguide.report.pdf import html_to_pdf
from nenguide.report.texts import LANGS, pick_lang
from nenguide.report.view import AssessmentView
from nenguide.web import caseform, data, render, session
from nenguide.web.session import WebUser

router = APIRouter(include_in_schema=False)


class PageNotFound(Exception):
    """A record named in a page URL does not exist."""


class FormTooLarge(Exception):
    """A case form names a row index beyond :data:`~nenguide.limits.MAX_FORM_ROWS` (the form
    is built row by row up to the largest index: a forged index would make it endless)."""

    def __init__(self, field: str):
        super().__init__(field)
        self.field = field


def _safe_next(value: str | None) -> str:
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/patients"


def _see(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _get(fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except data.NotFound:
        raise PageNotFound() from None


# ----------------------------------------------------------------------------- session


@router.get("/")
def home(request: Request) -> Response:
    return _see("/patients" if session.current_user(request) else "/login")


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    return render.page(request, "login.html", None, next=_safe_next(next), error=None)


@router.post("/login")
async def login_submit(request: Request) -> Response:
    form = await session.check_csrf(request, None)
    nxt = _safe_next(form.get("next"))
    tx = render.texts(request, None)
    username = form.get("username", "")
    try:
        body = LoginIn(username=username, password=form.get("password", ""))
    except ValidationError:
        return render.page(
            request,
            "login.html",
            None,
            status=401,
            next=nxt,
            error=tx.t("login.failed"),
            username=username,
        )
    sink = Response()
    try:
        # The JSON API's own login: same credential check, audit and throttling.
        await api_auth.login(body, request, sink)
    except ApiError as err:
        key = "login.throttled" if err.status == 429 else "login.failed"
        return render.page(
            request,
            "login.html",
            None,
            status=err.status,
            next=nxt,
            error=tx.t(key),
            username=username,
        )
    out = _see(nxt)
    for k, v in sink.raw_headers:
        if k.lower() == b"set-cookie":
            out.raw_headers.append((k, v))
    out.delete_cookie(session.CSRF_COOKIE, path="/")
    return out


@router.post("/logout")
async def logout(request: Request) -> Response:
    user = session.require(request, READ)
    await session.check_csrf(request, user)
    principal = Principal(user.user_id, user.username, user.role, user.token_hash, user.request_id)
    api_auth.logout(principal, request, Response(), request.app.state.db)
    out = _see("/login")
    out.delete_cookie(request.app.state.settings.cookie_name, path="/")
    return out


@router.post("/language")
async def language(request: Request) -> Response:
    user = session.current_user(request)
    form = await session.check_csrf(request, user)
    lang = pick_lang(form.get("lang")) or "en"
    if user is not None:
        request.app.state.web_prefs.set_language(user.username, lang)
    out = _see(_safe_next(form.get("next")))
    out.set_cookie(
        session.LANG_COOKIE,
        lang,
        max_age=365 * 86400,
        samesite="strict",
        httponly=True,
        secure=request.app.state.settings.cookie_secure,
        path="/",
    )
    return out


# ----------------------------------------------------------------------------- patients


@router.get("/patients")
def patients(request: Request, q: str | None = None) -> Response:
    user = session.require(request, READ)
    q = (q or "").strip()[:200]
    items, total = data.list_patients(request.app.state.db, q or None)
    return render.page(
        request, "patients.html", user, items=items, total=total, q=q, form={}, error=None
    )


@router.post("/patients")
async def register_patient(request: Request) -> Response:
    user = session.require(request, PATIENT_WRITE)
    form = await session.check_csrf(request, user)
    tx = render.texts(request, user)
    name = form.get("name", "").strip()
    fields: dict[str, Any] = {
        "name": name,
        "mrn": form.get("mrn", "").strip() or None,
        "sex": form.get("sex") or None,
    }
    error = None
    try:
        bd = form.get("birth_date", "").strip()
        fields["birth_date"] = dt.date.fromisoformat(bd) if bd else None
    except ValueError:
        error = f"{tx.t('patients.birth_date')}: {tx.t('err.date_parsing')}"
    if not name:
        error = f"{tx.t('patients.name')}: {tx.t('err.missing')}"
    if error is None:
        try:
            doc = data.create_patient(request.app.state.db, user.actor(), **fields)
        except data.StoreError as exc:
            error = str(exc)
        else:
            return _see(f"/patients/{doc['id']}")
    items, total = data.list_patients(request.app.state.db, None)
    return render.page(
        request,
        "patients.html",
        user,
        status=422,
        items=items,
        total=total,
        q="",
        form=form,
        error=error,
    )


def _age(birth: str | None) -> int | None:
    if not birth:
        return None
    b = dt.date.fromisoformat(birth)
    t = dt.date.today()
    return t.year - b.year - ((t.month, t.day) < (b.month, b.day))


@router.get("/patients/{patient_id}")
def patient_page(request: Request, patient_id: str) -> Response:
    user = session.require(request, READ)
    db = request.app.state.db
    patient = _get(data.get_patient, db, patient_id)
    cases = data.list_cases(db, patient_id)
    for c in cases:
        stored = data.list_assessments(db, c["id"])
        c["latest"] = stored[-1] if stored else None
    today = dt.date.today()
    tasks = data.list_tasks(db, as_of=today, patient_id=patient_id)
    tl = None
    if tasks:
        # the patient's follow-up as a picture: done, overdue, cancelled and open visits
        states = {"done": "done", "cancelled": "cancelled"}
        marks = [
            {
                "due": t["due"],
                "state": states.get(t["status"], "overdue" if t["overdue"] else "open"),
            }
            for t in tasks
        ]
        start = min([today, *(dt.date.fromisoformat(t["due"]) for t in tasks)])
        tl = svg.timeline(marks, start.isoformat(), today.isoformat(), lifelong=None)
    return render.page(
        request,
        "patient.html",
        user,
        patient=patient,
        cases=cases,
        tasks=tasks,
        tl=tl,
        age=_age(patient.get("birth_date")),
    )


# ----------------------------------------------------------------------------- case form

_META = {"csrf", "title", "comment", "base_version", "_add", "_save"}


def _form_values(raw: dict[str, list[str]]) -> dict[str, list[str]]:
    values = {k: v for k, v in raw.items() if k not in _META}
    for k in values:
        if any(p.isdigit() and (len(p) > 6 or int(p) >= MAX_FORM_ROWS) for p in k.split(".")):
            raise FormTooLarge(k)
    add = (raw.get("_add") or [""])[0]
    if add:
        values[f"_rows.{add}"] = [str(_rows_in_use(values, add) + 2)]
    return values


def _rows_in_use(values: dict[str, list[str]], path: str) -> int:
    prefix = path + "."
    used = 0
    for k in values:
        head = k[len(prefix) :].split(".", 1)[0] if k.startswith(prefix) else ""
        if head.isdigit():
            used = max(used, int(head) + 1)
    return used


def _case_form(
    request: Request,
    user: WebUser,
    *,
    patient: dict[str, Any],
    values: dict[str, list[str]],
    errors: dict[str, caseform.Msg] | None,
    case: dict[str, Any] | None,
    title: str,
    comment: str,
    status: int = 200,
    conflict: str | None = None,
) -> Response:
    tx = render.texts(request, user)
    kb = request.app.state.kb
    secs = caseform.sections(tx, values, kb.analytes)
    n_errors = caseform.attach_errors(secs, errors or {})
    units = sorted({u for a in kb.analytes.analytes.values() for u in a.examples})
    # which missing fields would change the answer: the latest assessment's open questions
    open_q: list[dict[str, Any]] = []
    if case is not None:
        _, result, _ = latest_assessment(request, case, tx.lang)
        if result is not None:
            open_q = AssessmentView(result, tx, kb).open_questions()
    return render.page(
        request,
        "case_form.html",
        user,
        tx=tx,
        status=status,
        patient=patient,
        case=case,
        sections=secs,
        n_errors=n_errors,
        title=title,
        comment=comment,
        units=units,
        conflict=conflict,
        has_errors=bool(errors),
        open_q=open_q,
    )


@router.get("/patients/{patient_id}/cases/new")
def new_case(request: Request, patient_id: str) -> Response:
    user = session.require(request, CLINICAL_WRITE)
    patient = _get(data.get_patient, request.app.state.db, patient_id)
    return _case_form(
        request, user, patient=patient, values={}, errors=None, case=None, title="", comment=""
    )


@router.get("/cases/{case_id}/edit")
def edit_case(request: Request, case_id: str) -> Response:
    user = session.require(request, CLINICAL_WRITE)
    db = request.app.state.db
    case = _get(data.get_case, db, case_id)
    patient = data.get_patient(db, case["patient_id"])
    return _case_form(
        request,
        user,
        patient=patient,
        values=caseform.flatten(case["data"]),
        errors=None,
        case=case,
        title=case["title"],
        comment="",
    )


def assess_data(
    request: Request, case_data: dict[str, Any], lang: str, as_of: dt.date
) -> Assessment:
    """The engine on stored case data, with this service's site parameters (as the API)."""
    case = parse_case(case_data)
    return run_assess(
        case,
        request.app.state.kb,
        as_of=as_of,
        lang=lang,
        site=request.app.state.site_params.current(),
    )


def _store_assessment(
    request: Request, user: WebUser, case: dict[str, Any], lang: str
) -> dict[str, Any]:
    result = assess_data(request, case["data"], lang, dt.date.today())
    return data.add_assessment(
        request.app.state.db,
        user.actor(),
        case_id=case["id"],
        case_version=case["version"],
        result=result.model_dump(mode="json"),
    )


async def _save_case(request: Request, patient_id: str | None, case_id: str | None) -> Response:
    user = session.require(request, CLINICAL_WRITE)
    await session.check_csrf(request, user)
    raw = await session.form_lists(request)
    db = request.app.state.db
    tx = render.texts(request, user)
    kb = request.app.state.kb
    case = _get(data.get_case, db, case_id) if case_id else None
    patient = _get(data.get_patient, db, patient_id or (case or {}).get("patient_id"))
    title = (raw.get("title") or [""])[0].strip()
    comment = (raw.get("comment") or [""])[0].strip()
    values = _form_values(raw)
    keep = {"patient": patient, "values": values, "case": case, "title": title, "comment": comment}
    if (raw.get("_add") or [""])[0]:
        return _case_form(request, user, errors=None, **keep)
    case_data = caseform.unflatten(values, tx, kb.analytes)
    checked = caseform.validate(case_data, tx, kb.analytes)
    title = title or f"{tx.t('case.title')} {dt.date.today().isoformat()}"
    if checked.errors:
        return _case_form(request, user, errors=checked.errors, status=422, **keep)
    stored_data = checked.case.model_dump(mode="json", exclude_none=True) if checked.case else {}
    try:
        if case is None:
            saved = data.create_case(
                db,
                user.actor(),
                patient_id=patient["id"],
                title=title,
                data=stored_data,
                comment=comment or None,
            )
        else:
            base = int((raw.get("base_version") or ["0"])[0] or 0)
            saved = data.update_case(
                db,
                user.actor(),
                case["id"],
                base_version=base,
                data=stored_data,
                comment=comment or None,
                title=title,
            )
    except data.VersionConflict:
        return _case_form(
            request, user, errors=None, status=409, conflict=tx.t("case.conflict"), **keep
        )
    _store_assessment(request, user, saved, tx.lang)
    return _see(f"/cases/{saved['id']}")


@router.post("/patients/{patient_id}/cases")
async def create_case(request: Request, patient_id: str) -> Response:
    return await _save_case(request, patient_id, None)


@router.post("/cases/{case_id}/edit")
async def update_case(request: Request, case_id: str) -> Response:
    return await _save_case(request, None, case_id)


# ----------------------------------------------------------------------------- assessment


def latest_assessment(
    request: Request, case: dict[str, Any], lang: str
) -> tuple[dict[str, Any] | None, dict[str, Any] | None, bool]:
    """(stored record, result in ``lang``, regenerated?) of the case's latest assessment.

    A stored assessment in another language is re-run on the same case version and date,
    so the page never shows a message in the other language."""
    db = request.app.state.db
    stored = data.list_assessments(db, case["id"])
    if not stored:
        return None, None, False
    rec = stored[-1]
    result = rec["result"]
    if result.get("language") == lang:
        return rec, result, False
    version = data.get_version(db, case["id"], rec["case_version"])
    again = assess_data(request, version["data"], lang, dt.date.fromisoformat(rec["as_of"]))
    return rec, again.model_dump(mode="json"), True


def field_link(case_id: str) -> Any:
    def link(path: str) -> str:
        top = ".".join(path.split(".")[:2])
        sec = caseform.SECTION_OF.get(top) or caseform.SECTION_OF.get(path.split(".")[0], "")
        return f"/cases/{case_id}/edit#sec-{sec}"

    return link


@router.get("/cases/{case_id}")
def case_page(request: Request, case_id: str) -> Response:
    user = session.require(request, READ)
    db = request.app.state.db
    tx = render.texts(request, user)
    case = _get(data.get_case, db, case_id)
    patient = data.get_patient(db, case["patient_id"])
    rec, result, regenerated = latest_assessment(request, case, tx.lang)
    ctx: dict[str, Any] = {}
    if result is not None:
        ctx = report_html.pictures(result, tx, dt.date.today().isoformat())
        ctx["v"] = AssessmentView(result, tx, request.app.state.kb)
    meetings = [m for m in data.list_meetings(db) if m.get("status") != "closed"]
    return render.page(
        request,
        "assessment.html",
        user,
        tx=tx,
        case=case,
        patient=patient,
        rec=rec,
        regenerated=regenerated,
        meetings=meetings,
        field_link=field_link(case_id),
        age=_age(patient.get("birth_date")),
        **ctx,
    )


@router.post("/cases/{case_id}/assess")
async def reassess(request: Request, case_id: str) -> Response:
    user = session.require(request, CLINICAL_WRITE)
    await session.check_csrf(request, user)
    tx = render.texts(request, user)
    case = _get(data.get_case, request.app.state.db, case_id)
    _store_assessment(request, user, case, tx.lang)
    return _see(f"/cases/{case_id}")


def report_identifiers(request: Request) -> tuple[str, ...]:
    raw = request.app.state.settings.report_identifiers
    return tuple(p.strip() for p in raw.split(",") if p.strip())


def report_bytes(request: Request, case_id: str, fmt: str, lang: str) -> Response:
    """The assessment report of a case's latest stored assessment (for pages and the API)."""
    db = request.app.state.db
    case = _get(data.get_case, db, case_id)
    patient = data.get_patient(db, case["patient_id"])
    rec, result, _ = latest_assessment(request, case, lang)
    if result is None or rec is None:
        raise PageNotFound()
    doc = report_html.assessment_html(
        result,
        request.app.state.kb,
        lang=lang,
        patient=patient,
        identifiers=report_identifiers(request),
        case_version=rec["case_version"],
        assessment_id=rec["id"],
    )
    name = f"nenguide-assessment-{case_id[:8]}-{lang}"
    if fmt == "pdf":
        return Response(
            html_to_pdf(doc),
            media_type="application/pdf",
            headers={"content-disposition": f'attachment; filename="{name}.pdf"'},
        )
    from nenguide.web.app import CSP_REPORT

    return Response(
        doc,
        media_type="text/html; charset=utf-8",
        headers={
            "content-disposition": f'inline; filename="{name}.html"',
            "content-security-policy": CSP_REPORT,
        },
    )


@router.get("/cases/{case_id}/report")
def case_report(
    request: Request, case_id: str, format: str = "pdf", lang: str | None = None
) -> Response:
    user = session.require(request, READ)
    chosen = lang if lang in LANGS else session.language(request, user)
    return report_bytes(request, case_id, "html" if format == "html" else "pdf", chosen)
