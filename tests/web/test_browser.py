"""The MDT's path through the pages in real headless Chromium: log in, enter a case with one
invalid field and read the message in the chosen language, fix it, read grade and stage, open
"why", switch to Chinese, put the case on a meeting, record a decision with a departure reason,
mark a follow-up task done and download the PDF report.

With ``NENGUIDE_SCREENSHOTS=DIR`` (``make screenshots``) each page is also saved as a PNG."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path
from typing import Any

import pytest
from webserver import PASSWORD, USERS, WebServer

SHOTS = os.environ.get("NENGUIDE_SCREENSHOTS")
NAME = "<script>alert('x')</script> Wang Fang"
# snake_case words outside <code>/<script>/<style> are raw codes leaking into the page
LEAKS_JS = """() => {
  const out = [];
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walk.nextNode()) {
    const n = walk.currentNode;
    if (n.parentElement.closest("code, script, style, datalist, option, [hidden]")) continue;
    const m = n.textContent.match(/\\b[a-z0-9]+_[a-z0-9_]+\\b/g);
    if (m) out.push(...m);
  }
  return out;
}"""


def shot(page: Any, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=False)


@pytest.fixture(scope="module")
def page(browser: Any, web: WebServer) -> Any:
    ctx = browser.new_context(
        accept_downloads=True, viewport={"width": 1280, "height": 900}, locale="en-GB"
    )
    p = ctx.new_page()
    p.set_default_timeout(20_000)
    dialogs: list[str] = []
    p.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    p.dialogs = dialogs
    yield p
    ctx.close()


def _fill_case(page: Any, ki67: str) -> None:
    page.fill("#f-title", "Pancreatic NET with liver metastases")
    page.fill("#f-patient-age_years", "58")
    page.select_option("#f-patient-sex", "female")
    page.select_option("#f-pathology-differentiation", "well")
    page.fill("#f-pathology-ki67_percent", ki67)
    page.fill("#f-pathology-mitoses_per_2mm2", "3")
    page.fill("#f-tumour-primary_site", "pancreas")
    page.fill("#f-tumour-size_cm", "3.4")
    page.fill("#f-tumour-extent", "confined_to_pancreas")
    page.select_option("#f-staging_basis", "pathological")
    page.fill("#f-regional_nodes-examined", "14")
    page.fill("#f-regional_nodes-positive", "2")
    page.select_option("#f-metastases-status", "present")
    page.fill("#f-metastases-liver-lesion_count", "5")
    page.select_option("#f-metastases-liver-extent", "bilobar")
    page.select_option("#f-metastases-liver-resectability", "resection_with_ablation_or_staged")


def test_mdt_path(page: Any, web: WebServer, tmp_path: Path) -> None:
    base = web.base_url
    # log in (a wrong password first: one neutral message)
    page.goto(base + "/")
    assert page.url.startswith(base + "/login")
    page.get_by_role("button", name="EN", exact=True).click()
    shot(page, "01-login")
    page.get_by_label("User name").fill(USERS["clinician"])
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Log in").click()
    assert page.get_by_role("alert").inner_text().startswith("Wrong user name or password")
    page.get_by_label("User name").fill(USERS["clinician"])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/patients")
    # the language choice is remembered for this user
    page.get_by_role("button", name="EN", exact=True).click()
    page.get_by_role("heading", name="Patients", exact=True).wait_for()

    # register a patient whose name is markup: it stays text
    page.fill("#p-name", NAME)
    page.fill("#p-mrn", "W-0001")
    page.fill("#p-bd", "1968-03-12")
    page.select_option("#p-sex", "female")
    page.get_by_role("button", name="Register patient").click()
    assert page.locator(".pname").inner_text() == NAME
    assert page.dialogs == []
    page.get_by_role("link", name="New case").click()

    # one invalid field: the message in English beside it, the draft kept as typed
    _fill_case(page, "eight")
    page.get_by_role("button", name="Save new case and assess").click()
    page.locator("#error-summary").wait_for()
    assert "1 field(s) need attention" in page.locator("#error-summary").inner_text()
    err = page.locator("#f-pathology-ki67_percent-err")
    assert "Enter a number." in err.inner_text()
    assert "received: eight" in err.inner_text()
    assert page.input_value("#f-pathology-ki67_percent") == "eight"
    assert page.input_value("#f-tumour-size_cm") == "3.4"
    shot(page, "03-case-form-error")

    # fix it: grade and stage
    page.fill("#f-pathology-ki67_percent", "8")
    page.get_by_role("button", name="Save new case and assess").click()
    page.get_by_test_id("grade").wait_for()
    assert "G2" in page.get_by_test_id("grade").inner_text()
    assert "IV" in page.get_by_test_id("stage").inner_text()
    assert "pT2" in page.get_by_test_id("stage").inner_text()
    # why: rule, inputs, thresholds, sources
    why = page.locator("section[aria-labelledby=h-grade] details.why")
    why.locator("summary").click()
    text = why.inner_text()
    assert "CSCO2021.GRADE.GEP.KI67.G2" in text.replace("\u200b", "")
    assert "Ki-67" in text and "Sources" in text
    assert page.locator("svg.timeline").count() == 1
    shot(page, "04-assessment")
    case_url = page.url

    # switch to Chinese: the same case in zh-CN, no raw codes outside <code>
    page.get_by_role("button", name="中文").click()
    page.get_by_role("heading", name="分类与分级").wait_for()
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert "神经内分泌瘤" in page.get_by_test_id("grade").inner_text()
    assert "IV期" in page.get_by_test_id("stage").inner_text()
    leaks = page.evaluate(LEAKS_JS)
    assert leaks == [], leaks
    shot(page, "05-assessment-zh")

    # Chinese validation message on an edit
    page.goto(case_url + "/edit")
    page.fill("#f-pathology-ki67_percent", "八")
    page.get_by_role("button", name="保存并评估").click()
    assert "请输入数字。" in page.locator("#f-pathology-ki67_percent-err").inner_text()
    # a rule of the case model, worded in Chinese too (issue 9: it was English in brackets)
    page.fill("#f-pathology-ki67_percent", "8")
    page.fill("#f-regional_nodes-positive", "20")
    page.get_by_role("button", name="保存并评估").click()
    nodes_err = page.locator("#f-regional_nodes-positive-err").inner_text()
    assert "阳性淋巴结数（20）不能超过检出淋巴结数（14）。" in nodes_err, nodes_err
    assert "收到：20" in nodes_err and "positive" not in nodes_err
    page.fill("#f-regional_nodes-positive", "2")
    page.fill("#f-tumour-primary_site", "pancraes")
    page.fill("#f-pathology-ki67_percent", "8")
    page.get_by_role("button", name="保存并评估").click()
    assert (
        "您是否要输入“胰腺 (pancreas)”？" in page.locator("#f-tumour-primary_site-err").inner_text()
    )
    page.fill("#f-tumour-primary_site", "pancreas")
    page.get_by_role("button", name="保存并评估").click()
    page.get_by_test_id("grade").wait_for()

    # a meeting, the case on its agenda
    page.goto(base + "/meetings")
    page.fill("#m-title", "NEN MDT")
    page.fill("#m-when", "2030-01-09T14:00")
    page.fill("#m-where", "Room 3")
    page.get_by_role("button", name="安排会议").click()
    meeting_url = page.url
    page.goto(case_url)
    page.select_option("#a-meeting", meeting_url.rsplit("/", 1)[1])
    page.fill("#a-q", "肝转移是否切除？")
    page.get_by_role("button", name="提交MDT会议").last.click()
    assert page.url == meeting_url
    assert NAME in page.locator("ol.agenda").inner_text()
    # attendees, recorded for the minutes
    page.fill("#at-name", "李医生")
    page.select_option("#at-spec", "pathology")
    page.get_by_role("button", name="添加参会人员").click()
    assert "病理科：李医生" in page.locator("ul.attendees").inner_text()
    shot(page, "06-meeting")

    # board mode: decide, departing from the guideline with a reason
    page.get_by_role("link", name="会议展示（逐例）").click()
    page.locator("#decision-form").wait_for()
    page.locator("#decision-form input[name=plan]").first.check()
    page.fill("#d-text", "先行全身治疗后再评估")
    page.get_by_label("否").check()
    reasons = page.locator("#d-reason option").evaluate_all("os => os.map(o => o.value)")
    reason = "prior_toxicity" if "prior_toxicity" in reasons else "patient_preference"
    page.select_option("#d-reason", reason)
    page.fill("#d-comment", "既往依维莫司不耐受")
    page.get_by_role("button", name="记录决定").click()
    decision = page.get_by_test_id("decision").inner_text()
    assert "偏离指南理由" in decision and "既往依维莫司不耐受" in decision
    shot(page, "07-board")

    # follow-up: tasks from the assessment, one marked done with its result
    page.goto(case_url)
    page.get_by_role("button", name="生成随访任务").click()
    assert "/followup" in page.url
    form = page.locator("form.complete-form").first
    form.locator("input[name=result]").fill("CT：病灶稳定")
    form.get_by_role("button", name="完成").click()
    page.goto(base + "/followup?tab=done")
    assert "CT：病灶稳定" in page.locator("table.tasks").inner_text()
    shot(page, "08-followup")

    # the PDF report, downloaded from the page, holds the Chinese text
    page.goto(case_url)
    with page.expect_download() as dl:
        page.get_by_role("link", name="下载PDF").click()
    target = tmp_path / "report.pdf"
    dl.value.save_as(target)
    blob = target.read_bytes()
    assert blob.startswith(b"%PDF")
    from pypdf import PdfReader

    pdf_text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(blob)).pages)
    assert "评估报告" in pdf_text and "神经内分泌瘤" in pdf_text
    assert re.search(r"Wang\s*Fang", pdf_text)


def test_screenshots_of_other_pages(page: Any, web: WebServer) -> None:
    """Runs after the path above (same page): the remaining pages render for their roles."""
    base = web.base_url
    page.goto(base + "/patients")
    assert page.locator("table.list").count() == 1
    shot(page, "02-patients")
    # the API documentation renders from the vendored Swagger UI and ReDoc (no network)
    page.goto(base + "/docs")
    page.locator(".swagger-ui .info").wait_for()
    assert "nenguide MDT service" in page.locator(".swagger-ui .info").inner_text()
    page.goto(base + "/redoc")
    page.get_by_text("nenguide MDT service").first.wait_for()
    page.goto(base + "/site")
    page.get_by_role("heading", name="本院参数").wait_for()
    page.goto(base + "/audit")
    assert page.locator("main").inner_text().startswith("出错")  # a clinician is no auditor
    page.get_by_role("button", name="退出登录").click()
    page.get_by_label("用户名").fill(USERS["auditor"])
    page.get_by_label("密码").fill(PASSWORD)
    page.locator("button[type=submit]").click()
    page.goto(base + "/audit?entity=decision")
    text = page.locator("table.audit").inner_text()
    assert "meeting.decision.record" in text and USERS["clinician"] in text
    shot(page, "10-audit")


def test_site_parameters_in_the_browser(page: Any, web: WebServer) -> None:
    """An administrator edits the settings the page once lacked (the 'unavailable' list, the
    small-pNET settings): a wrong value is refused beside its field, the draft kept; then saved."""
    base = web.base_url
    page.goto(base + "/patients")
    page.locator("form[action='/logout'] button").click()
    page.get_by_role("button", name="EN", exact=True).click()
    page.get_by_label("User name").fill(USERS["admin"])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(base + "/site")
    # the language is remembered per user: other tests may have chosen Chinese for the admin
    page.get_by_role("button", name="EN", exact=True).click()
    page.get_by_role("heading", name="Site parameters").wait_for()
    page.get_by_role("checkbox", name="Everolimus").check()
    page.select_option("#nfpnet_small_default", "surveillance")
    page.select_option("#nfpnet_boundary_inclusive", "no")
    page.fill("#nfpnet_boundary_cm", "two")
    page.get_by_role("button", name="Save site parameters").click()
    err = page.locator("#nfpnet_boundary_cm-err")
    assert "greater than 0 and at most 10" in err.inner_text()
    assert page.get_by_role("checkbox", name="Everolimus").is_checked()  # draft kept
    assert page.input_value("#nfpnet_small_default") == "surveillance"
    page.fill("#nfpnet_boundary_cm", "1.5")
    page.get_by_role("button", name="Save site parameters").click()
    page.get_by_role("status").wait_for()
    assert page.input_value("#nfpnet_boundary_cm") == "1.5"
    assert page.get_by_role("checkbox", name="Everolimus").is_checked()
    shot(page, "09-site")
    target = web.state_dir / "site-parameters.yaml"
    text = target.read_text(encoding="utf-8")
    target.unlink()  # back to the package defaults for the other tests
    assert "unavailable:\n- everolimus" in text and "nfpnet_small_default: surveillance" in text
