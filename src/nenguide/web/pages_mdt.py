"""Pages: MDT meetings (agenda, board mode, decisions, minutes), the follow-up dashboard and
the audit log (the site parameters: :mod:`nenguide.web.pages_site`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from nenguide.api.auth import AUDIT, FOLLOWUP_WRITE, MEETING_WRITE, READ
from nenguide.limits import short
from nenguide.report import html as report_html
from nenguide.report.pdf import html_to_pdf
from nenguide.report.texts import LANGS, Texts
from nenguide.report.view import AssessmentView
from nenguide.web import data, render, session
from nenguide.web.pages_patients import PageNotFound, _get, latest_assessment

router = APIRouter(include_in_schema=False)


def _see(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# ----------------------------------------------------------------------------- meetings


@router.get("/meetings")
def meetings(request: Request) -> Response:
    user = session.require(request, READ)
    items = data.list_meetings(request.app.state.db)
    return render.page(request, "meetings.html", user, items=items, error=None, form={})


@router.post("/meetings")
async def create_meeting(request: Request) -> Response:
    user = session.require(request, MEETING_WRITE)
    form = await session.check_csrf(request, user)
    tx = render.texts(request, user)
    title = form.get("title", "").strip()
    try:
        when = dt.datetime.fromisoformat(form.get("scheduled_at", "").strip())
    except ValueError:
        when = None
    if not title or when is None:
        field = "meetings.title_field" if not title else "meetings.when"
        items = data.list_meetings(request.app.state.db)
        return render.page(
            request,
            "meetings.html",
            user,
            status=422,
            items=items,
            form=form,
            error=f"{tx.t(field)}: {tx.t('err.missing')}",
        )
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    m = data.create_meeting(
        request.app.state.db,
        user.actor(),
        title=title,
        scheduled_at=when,
        location=form.get("location", "").strip() or None,
    )
    return _see(f"/meetings/{m['id']}")


def _item_view(request: Request, tx: Texts, item: dict[str, Any]) -> dict[str, Any]:
    """An agenda item with its patient, pinned assessment (in the page language) and plan."""
    db = request.app.state.db
    case = data.get_case(db, item["case_id"])
    patient = data.get_patient(db, case["patient_id"])
    out: dict[str, Any] = {**item, "case": case, "patient": patient, "v": None, "summary": ""}
    result = None
    if item.get("assessment_id"):
        rec = data.get_assessment(db, item["assessment_id"])
        result = rec["result"]
        if result.get("language") != tx.lang:
            from nenguide.web.pages_patients import assess_data

            version = data.get_version(db, case["id"], rec["case_version"])
            result = assess_data(
                request, version["data"], tx.lang, dt.date.fromisoformat(rec["as_of"])
            ).model_dump(mode="json")
    if result is not None:
        v = AssessmentView(result, tx, request.app.state.kb)
        out["v"] = v
        c, s = v.classification(), v.stage()
        out["summary"] = " · ".join(x for x in (c.title, s.title, v.liver().title) if x)
        st = v.stamp()
        out["stamp"] = tx.t(
            "assess.stamp",
            guideline=st["title"],
            version=st["version"],
            valid_until=st["valid_until"],
            engine=st["engine"],
            as_of=st["as_of"],
        )
        out["options"] = [(o["code"], o["text"]) for o in result.get("treatment") or []]
        out["open_q"] = v.open_questions()
    d = item.get("decision")
    if d and out.get("options"):
        texts = dict(out["options"])
        out["plan"] = [texts.get(code, code) for code in d["plan_codes"]]
    return out


@router.get("/meetings/{meeting_id}")
def meeting_page(request: Request, meeting_id: str) -> Response:
    user = session.require(request, READ)
    return _meeting_page(request, user, meeting_id)


def _meeting_page(
    request: Request,
    user: session.WebUser,
    meeting_id: str,
    *,
    error: str | None = None,
    form: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    tx = render.texts(request, user)
    m = _get(data.get_meeting, request.app.state.db, meeting_id)
    items = [_item_view(request, tx, i) for i in m["agenda"]]
    return render.page(
        request,
        "meeting.html",
        user,
        tx=tx,
        meeting=m,
        items=items,
        specialties=data.specialties(),
        error=error,
        form=form or {},
        status=status,
    )


@router.post("/meetings/{meeting_id}/attendees")
async def add_attendee(request: Request, meeting_id: str) -> Response:
    """Record who attends (for the minutes), by name and specialty."""
    user = session.require(request, MEETING_WRITE)
    form = await session.check_csrf(request, user)
    tx = render.texts(request, user)
    _get(data.get_meeting, request.app.state.db, meeting_id)
    name = form.get("name", "").strip()
    specialty = form.get("specialty", "")
    error = None
    if not name:
        error = f"{tx.t('meeting.attendee_name')}: {tx.t('err.missing')}"
    elif specialty not in data.specialties():
        error = f"{tx.t('meeting.specialty')}: {tx.t('site.err.choice')}"
    if error is not None:
        return _meeting_page(request, user, meeting_id, error=error, form=form, status=422)
    data.add_attendee(
        request.app.state.db, user.actor(), meeting_id, name=name[:200], specialty=specialty
    )
    return _see(f"/meetings/{meeting_id}#attendees")


@router.post("/meetings/{meeting_id}/attendees/{attendee_id}/remove")
async def remove_attendee(request: Request, meeting_id: str, attendee_id: str) -> Response:
    user = session.require(request, MEETING_WRITE)
    await session.check_csrf(request, user)
    _get(data.remove_attendee, request.app.state.db, user.actor(), meeting_id, attendee_id)
    return _see(f"/meetings/{meeting_id}#attendees")


@router.post("/meetings/{meeting_id}/items/{item_id}/move")
async def move_item(request: Request, meeting_id: str, item_id: str) -> Response:
    """Move an agenda item one place up or down (buttons, not only drag: WCAG 2.5.7)."""
    user = session.require(request, MEETING_WRITE)
    form = await session.check_csrf(request, user)
    m = _get(data.get_meeting, request.app.state.db, meeting_id)
    ids = [i["id"] for i in m["agenda"]]
    if item_id not in ids:
        raise PageNotFound()
    step = {"up": -1, "down": 1}.get(form.get("direction", ""), 0)
    pos = ids.index(item_id) + 1 + step
    data.move_agenda_item(request.app.state.db, user.actor(), meeting_id, item_id, position=pos)
    return _see(f"/meetings/{meeting_id}#item-{item_id}")


@router.get("/meetings/{meeting_id}/board")
def board(request: Request, meeting_id: str, item: int = 1, error: str | None = None) -> Response:
    user = session.require(request, READ)
    tx = render.texts(request, user)
    m = _get(data.get_meeting, request.app.state.db, meeting_id)
    n = len(m["agenda"])
    pos = min(max(item, 1), max(n, 1))
    current = _item_view(request, tx, m["agenda"][pos - 1]) if n else None
    return render.page(
        request,
        "board.html",
        user,
        tx=tx,
        meeting=m,
        item=current,
        pos=pos,
        n=n,
        reasons=data.departure_reasons(),
        error=error,
    )


@router.post("/meetings/{meeting_id}/items/{item_id}/decision")
async def decide(request: Request, meeting_id: str, item_id: str) -> Response:
    user = session.require(request, MEETING_WRITE)
    await session.check_csrf(request, user)
    raw = await session.form_lists(request)
    tx = render.texts(request, user)
    m = _get(data.get_meeting, request.app.state.db, meeting_id)
    ids = [i["id"] for i in m["agenda"]]
    if item_id not in ids:
        raise PageNotFound()
    pos = ids.index(item_id) + 1

    def one(k: str) -> str:
        return (raw.get(k) or [""])[0].strip()

    follows = one("follows")
    reason = one("departure_reason") or None
    error = None
    if follows not in ("yes", "no"):
        error = tx.t("meeting.follows_needed")
    elif follows == "no" and reason not in data.departure_reasons():
        error = tx.t("meeting.departure_needed")
    if error is None:
        try:
            data.record_decision(
                request.app.state.db,
                user.actor(),
                meeting_id,
                item_id,
                plan_codes=[c for c in raw.get("plan", []) if c],
                plan_text=one("plan_text") or None,
                follows_guideline=follows == "yes",
                departure_reason=reason if follows == "no" else None,
                departure_comment=one("departure_comment") or None,
                assessment_id=None,
            )
        except data.StoreError as exc:
            error = str(exc)
    if error is not None:
        return board(request, meeting_id, pos, error)
    return _see(f"/meetings/{meeting_id}/board?item={pos}")


@router.get("/meetings/{meeting_id}/minutes")
def minutes(
    request: Request, meeting_id: str, format: str = "pdf", lang: str | None = None
) -> Response:
    user = session.require(request, READ)
    return minutes_response(
        request, meeting_id, format, lang if lang in LANGS else session.language(request, user)
    )


def minutes_response(request: Request, meeting_id: str, fmt: str, lang: str) -> Response:
    tx = Texts(lang, request.app.state.kb.catalog)
    m = _get(data.get_meeting, request.app.state.db, meeting_id)
    items = [_item_view(request, tx, i) for i in m["agenda"]]
    doc = report_html.minutes_html(m, items, request.app.state.kb, lang=lang)
    name = f"nenguide-minutes-{meeting_id[:8]}-{lang}"
    if fmt == "html":
        from nenguide.web.app import CSP_REPORT

        return Response(
            doc,
            media_type="text/html; charset=utf-8",
            headers={
                "content-security-policy": CSP_REPORT,
                "content-disposition": f'inline; filename="{name}.html"',
            },
        )
    return Response(
        html_to_pdf(doc),
        media_type="application/pdf",
        headers={"content-disposition": f'attachment; filename="{name}.pdf"'},
    )


@router.post("/cases/{case_id}/agenda")
async def add_to_meeting(request: Request, case_id: str) -> Response:
    user = session.require(request, MEETING_WRITE)
    form = await session.check_csrf(request, user)
    db = request.app.state.db
    case = _get(data.get_case, db, case_id)
    tx = render.texts(request, user)
    rec, _, _ = latest_assessment(request, case, tx.lang)
    meeting_id = form.get("meeting_id", "")
    _get(data.get_meeting, db, meeting_id)
    data.add_agenda_item(
        db,
        user.actor(),
        meeting_id,
        case_id=case_id,
        assessment_id=rec["id"] if rec else None,
        question=form.get("question", "").strip() or None,
    )
    return _see(f"/meetings/{meeting_id}")


# ----------------------------------------------------------------------------- follow-up


@router.get("/followup")
def followup(request: Request, tab: str | None = None, patient: str | None = None) -> Response:
    user = session.require(request, READ)
    today = dt.date.today()
    db = request.app.state.db
    tasks = data.list_tasks(db, as_of=today, patient_id=patient or None)
    soon = today + dt.timedelta(days=30)
    groups: dict[str, list[dict[str, Any]]] = {
        "overdue": [],
        "upcoming": [],
        "later": [],
        "done": [],
    }
    names: dict[str, str] = {}
    for t in tasks:
        if t["patient_id"] not in names:
            names[t["patient_id"]] = data.get_patient(db, t["patient_id"])["name"]
        t["patient_name"] = names[t["patient_id"]]
        due = dt.date.fromisoformat(t["due"])
        t["days_overdue"] = (today - due).days
        if t["status"] != "open":
            groups["done"].append(t)
        elif due < today:
            groups["overdue"].append(t)
        elif due <= soon:
            groups["upcoming"].append(t)
        else:
            groups["later"].append(t)
    if tab not in groups:
        # the first tab with something to do (overdue first)
        tab = next((k for k in ("overdue", "upcoming", "later") if groups[k]), "overdue")
    return render.page(
        request,
        "followup.html",
        user,
        groups=groups,
        tab=tab,
        today=today.isoformat(),
        patient=patient or "",
    )


@router.post("/followup/{task_id}/complete")
async def complete(request: Request, task_id: str) -> Response:
    user = session.require(request, FOLLOWUP_WRITE)
    form = await session.check_csrf(request, user)
    db = request.app.state.db
    today = dt.date.today()
    task = _get(data.get_task, db, task_id, today)
    given = form.get("completed_on", "").strip()
    version = form.get("version") or str(task["version"])
    try:
        on = dt.date.fromisoformat(given) if given else today
    except ValueError:
        on = None
    if on is None or on > today or not version.isdigit():
        # never a date other than the one given: a date that does not exist, or one in the
        # future, is refused (it was stored as today, silently)
        tx = render.texts(request, user)
        message = (
            tx.t("error.followup_version")
            if on is not None and on <= today
            else tx.t("error.followup_date", value=short(given), today=today.isoformat())
        )
        return render.page(request, "error.html", user, status=422, message=message)
    status = "cancelled" if form.get("status") == "cancelled" else "done"
    data.complete_task(
        db,
        user.actor(),
        task_id,
        version=int(version),
        completed_on=on,
        result=form.get("result", "").strip() or "-",
        status=status,
    )
    return _see(f"/followup?tab={form.get('tab') or 'overdue'}")


@router.post("/cases/{case_id}/tasks")
async def create_tasks(request: Request, case_id: str) -> Response:
    user = session.require(request, FOLLOWUP_WRITE)
    await session.check_csrf(request, user)
    db = request.app.state.db
    case = _get(data.get_case, db, case_id)
    stored = data.list_assessments(db, case_id)
    if stored:
        data.generate_tasks(db, user.actor(), stored[-1]["id"])
    return _see(f"/followup?patient={case['patient_id']}")


# ----------------------------------------------------------------------------- audit


@router.get("/audit")
def audit(
    request: Request,
    entity: str | None = None,
    actor: str | None = None,
    patient: str | None = None,
    after: int | None = None,
) -> Response:
    user = session.require(request, AUDIT)
    rows = data.list_audit(
        request.app.state.db,
        entity_type=entity or None,
        actor=actor or None,
        patient_id=patient or None,
        after_id=after,
        limit=100,
    )
    for r in rows:
        before, after_v = r.get("before") or {}, r.get("after") or {}
        keys = (
            sorted(set(before) | set(after_v))
            if isinstance(before, dict) and isinstance(after_v, dict)
            else []
        )
        r["diff"] = [
            (k, before.get(k), after_v.get(k))
            for k in keys
            if before.get(k) != after_v.get(k) and k not in ("data", "result")
        ]
    return render.page(
        request,
        "audit.html",
        user,
        rows=rows,
        filters={"entity": entity or "", "actor": actor or "", "patient": patient or ""},
        next_after=rows[-1]["id"] if len(rows) == 100 else None,
    )
