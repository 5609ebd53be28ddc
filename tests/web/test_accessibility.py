"""axe-core (vendored from the npm registry, tests/web/vendor/) run in headless Chromium on
the main pages, in English and Chinese: no serious or critical violation."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from webserver import PASSWORD, USERS, WebServer

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text("utf-8")


@pytest.fixture(scope="module")
def seeded(web: WebServer) -> dict[str, str]:
    """A patient with an assessed case on a meeting, with follow-up tasks (through the API)."""
    p, c = web.patient_with_case("A11y Patient", "A-1")
    with web.api("clinician") as api:
        a = api.post(f"/api/v1/cases/{c['id']}/assessments", json={"lang": "en"}).json()
        when = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).isoformat()
        m = api.post("/api/v1/meetings", json={"title": "MDT", "scheduled_at": when}).json()
        api.post(
            f"/api/v1/meetings/{m['id']}/agenda",
            json={"case_id": c["id"], "assessment_id": a["id"], "question": "Resect?"},
        )
    return {"patient": p["id"], "case": c["id"], "meeting": m["id"]}


@pytest.fixture(scope="module")
def page(browser: Any, web: WebServer) -> Any:
    # axe is injected by the test harness, so this context does not enforce the page's CSP
    ctx = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    p = ctx.new_page()
    p.set_default_timeout(20_000)
    p.goto(web.base_url + "/login")
    # the admin (another user than the browser test's, whose language choice is remembered)
    p.get_by_label("User name").fill(USERS["admin"])
    p.get_by_label("Password").fill(PASSWORD)
    p.locator("button[type=submit]").click()
    p.wait_for_url("**/patients")
    yield p
    ctx.close()


def _serious(page: Any) -> list[str]:
    page.evaluate(AXE)
    result = page.evaluate("async () => await axe.run(document)")
    assert result["passes"], "axe checked nothing"
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_main_pages_have_no_serious_violations(
    page: Any, web: WebServer, seeded: dict[str, str], lang: str
) -> None:
    page.goto(web.base_url + "/patients")
    page.locator(f"button[name=lang][value='{lang}']").click()
    paths = [
        "/patients",
        f"/patients/{seeded['patient']}",
        f"/patients/{seeded['patient']}/cases/new",
        f"/cases/{seeded['case']}",
        f"/cases/{seeded['case']}/edit",
        "/meetings",
        f"/meetings/{seeded['meeting']}",
        f"/meetings/{seeded['meeting']}/board?item=1",
        "/followup",
        "/site",
    ]
    if lang == "zh-CN":  # the Chinese labels on the pages that differ most in layout
        paths = [p for p in paths if p.startswith(("/cases", "/meetings/"))]
    problems = {}
    for path in paths:
        page.goto(web.base_url + path)
        found = _serious(page)
        if found:
            problems[path] = found
    assert problems == {}
