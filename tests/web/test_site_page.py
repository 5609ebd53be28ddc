"""The site-parameters page: every setting of the file format is on the form, checked, saved
for an administrator only, and used by /api/v1/assess and by stored assessments (issue 9)."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import yaml
from test_page_security import _login
from webserver import WebServer

from nenguide.cli import demo_cases


def _form(page: str) -> dict[str, list[str]]:
    """The fields a browser would post from the page (selected options, ticked boxes)."""
    out: dict[str, list[str]] = {}
    for m in re.finditer(r"<input ([^>]*)>", page):
        attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', m.group(1)))
        if "name" not in attrs or "disabled" in m.group(1):
            continue
        if attrs.get("type") == "checkbox" and " checked" not in m.group(1):
            continue
        out.setdefault(attrs["name"], []).append(attrs.get("value", ""))
    for m in re.finditer(r'<select name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', m.group(2))
        first = re.search(r'<option value="([^"]*)"', m.group(2))
        out[m.group(1)] = [(chosen or first).group(1)]  # type: ignore[union-attr]
    for m in re.finditer(r'<select id="[^"]+" name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', m.group(2))
        out[m.group(1)] = [chosen.group(1) if chosen else ""]
    for m in re.finditer(r'<textarea id="[^"]+" name="([^"]+)"[^>]*>(.*?)</textarea>', page, re.S):
        out[m.group(1)] = [m.group(2)]
    return out


def _post(c: httpx.Client, fields: dict[str, list[str]]) -> httpx.Response:
    return c.post("/site", data=fields)


def _pnet_case() -> dict[str, Any]:
    raw = yaml.safe_load(demo_cases()["pnet-g2-liver"].read_text(encoding="utf-8"))
    return json.loads(json.dumps(raw, default=str))


def _site_note(result: dict[str, Any]) -> dict[str, Any]:
    return next(
        e["result"]
        for e in result["trace"]
        if e["step"] == "treatment"
        and isinstance(e.get("result"), dict)
        and "site_parameters" in e["result"]
    )


def test_every_setting_is_editable_checked_and_used(web: WebServer) -> None:
    admin, _ = _login(web, "admin")
    target = web.state_dir / "site-parameters.yaml"
    page = admin.get("/site").text
    fields = _form(page)
    # every setting of the format is on the form
    for name in (
        "name",
        "item.everolimus.available",
        "item.everolimus.reimbursed",
        "item.everolimus.note",
        "item.surufatinib.sources",
        "item.ga68_dotatate.available",
        "unavailable_shown",
        "prrt_krenning_min",
        "nfpnet_boundary_cm",
        "nfpnet_boundary_inclusive",
        "nfpnet_small_default",
    ):
        assert name in fields, name
    assert fields["item.surufatinib.sources"] == ["tx-surufatinib-approval"]
    assert fields["item.everolimus.available"] == ["yes"]  # the package default, in effect

    # refused: each error beside its field, the form as typed, nothing saved
    bad = {
        **fields,
        "name": ["Hospital <b>X</b>"],
        "item.surufatinib.sources": ["no-such-source"],
        "prrt_krenning_min": ["7"],
        "nfpnet_boundary_cm": ["zwei"],
        "unavailable": ["not_an_item"],
    }
    r = _post(admin, bad)
    assert r.status_code == 422
    for name in ("item.surufatinib.sources", "prrt_krenning_min", "nfpnet_boundary_cm"):
        assert f'id="{name}-err"' in r.text, name
    assert 'id="unavailable-err"' in r.text and "not_an_item" in r.text
    assert "Unknown source: no-such-source" in r.text
    assert 'value="zwei"' in r.text and "Hospital &lt;b&gt;X&lt;/b&gt;" in r.text
    assert not target.exists()

    # saved: the shorthand list, the small-pNET settings, an item's availability and sources
    good = {
        **fields,
        "name": ["Hospital X"],
        "item.surufatinib.available": ["no"],
        "item.surufatinib.note": ["not stocked"],
        "unavailable": ["everolimus"],
        "prrt_krenning_min": ["2"],
        "nfpnet_boundary_cm": ["1,5"],
        "nfpnet_boundary_inclusive": ["no"],
        "nfpnet_small_default": ["surveillance"],
    }
    try:
        r = _post(admin, good)
        assert r.status_code == 303, r.text
        saved = yaml.safe_load(target.read_text(encoding="utf-8"))
        assert saved["unavailable"] == ["everolimus"]
        assert saved["prrt_krenning_min"] == 2 and saved["nfpnet_boundary_cm"] == 1.5
        assert saved["nfpnet_boundary_inclusive"] is False
        assert saved["nfpnet_small_default"] == "surveillance"
        assert saved["items"]["surufatinib"]["available"] is False
        # rows left at the package default are not written (an entry replaces the default)
        assert "ga68_dotatate" not in saved["items"] and "lanreotide" not in saved["items"]
        # the page shows what is in effect
        again = _form(admin.get("/site").text)
        assert again["unavailable"] == ["everolimus"] and again["nfpnet_boundary_cm"] == ["1.5"]

        # used by /api/v1/assess and by a stored assessment
        with web.api("clinician") as api:
            result = api.post("/api/v1/assess", json=_pnet_case()).json()
            p = api.post("/api/v1/patients", json={"name": "Site Test"}).json()
            c = api.post(
                f"/api/v1/patients/{p['id']}/cases", json={"title": "t", "case": _pnet_case()}
            ).json()
            stored = api.post(f"/api/v1/cases/{c['id']}/assessments", json={}).json()
        for res in (result, stored.get("result", stored)):
            evero = [o for o in res["treatment"] if o["code"].startswith("EVEROLIMUS")]
            assert evero and all(o["available"] is False for o in evero)
            note = _site_note(res)
            assert note["nfpnet_boundary_cm"] == 1.5 and note["prrt_krenning_min"] == 2
            assert note["nfpnet_small_default"] == "surveillance"
            assert note["nfpnet_boundary_inclusive"] is False
    finally:
        target.unlink(missing_ok=True)


def test_only_an_admin_edits(web: WebServer) -> None:
    clinician, token = _login(web, "clinician")
    page = clinician.get("/site").text
    assert "Only an administrator" in page and 'name="prrt_krenning_min"' in page
    assert re.search(r'<select id="prrt_krenning_min"[^>]* disabled', page)
    r = clinician.post("/site", data={"csrf": token, "prrt_krenning_min": "1"})
    assert r.status_code == 403
    assert not (web.state_dir / "site-parameters.yaml").exists()
