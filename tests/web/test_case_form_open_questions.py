"""The case form shows which missing fields would change the answer (the latest assessment's
insufficient-data and conflict items), each linking to its field, in the page language."""

from __future__ import annotations

from test_page_security import _login
from webserver import WebServer

SPARSE = {
    "tumour": {"primary_site": "pancreas", "size_cm": 1.5},
    "pathology": {"differentiation": "well", "ki67_percent": 2},
}


def test_edit_form_lists_what_is_missing(web: WebServer) -> None:
    clinician, token = _login(web, "clinician")
    # the language is remembered per user: other tests may have chosen Chinese
    clinician.post("/language", data={"csrf": token, "lang": "en", "next": "/patients"})
    with web.api("clinician") as api:
        p = api.post("/api/v1/patients", json={"name": "Sparse Case"}).json()
        c = api.post(
            f"/api/v1/patients/{p['id']}/cases", json={"title": "sparse", "case": SPARSE}
        ).json()
        api.post(f"/api/v1/cases/{c['id']}/assessments", json={"lang": "en"})
    page = clinician.get(f"/cases/{c['id']}/edit").text
    assert "Missing or conflicting data that would change the answer" in page
    # the treatment setting needs the metastases' status: named by label, linked to the field
    assert "record the status of distant metastases" in page
    assert 'href="#f-metastases-status"' in page and 'id="f-metastases-status"' in page
    assert "metastases.status)" not in page
    # a new case (nothing assessed yet) has no such list
    new = clinician.get(f"/patients/{p['id']}/cases/new").text
    assert "would change the answer" not in new
