"""The SMART launch's store side (``nenguide.web.smart_data``) on a real SQLite store: the EHR
user's account and role (never admin), a role that may not write, and one case per EHR patient
with a new version only when the EHR's data changed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from nenguide.api.security import token_hash
from nenguide.interop.fhir import PatientInfo
from nenguide.store import Actor, Database, migrate
from nenguide.store import users as users_store
from nenguide.web import smart_data

ISS = "https://ehr.example.org/fhir"
INFO = PatientInfo(reference="Patient/p1", name="Invented, Ada", identifier="MRN-77")
CASE = {"patient": {"sex": "female"}, "tumour": {"primary_site": "pancreas"}}


@pytest.fixture
def db(tmp_path: Path) -> Database:
    d = Database(f"sqlite:///{tmp_path / 'smart.db'}")
    migrate.upgrade(d)
    return d


def _session(db: Database, role: str, who: str | None = "Practitioner/1") -> smart_data.EhrSession:
    return smart_data.ehr_session(
        db, iss=ISS, fhir_user=who, role=role, ttl=dt.timedelta(hours=1), request_id=None
    )


def test_one_account_per_ehr_user_its_role_reset_and_never_admin(db: Database) -> None:
    a = _session(db, "clinician")
    b = _session(db, "clinician")
    assert a.username == b.username == smart_data.account_name(ISS, "Practitioner/1")
    assert a.token != b.token
    assert _session(db, "clinician", "Practitioner/2").username != a.username
    assert _session(db, "clinician", None).username == smart_data.account_name(ISS, None)
    with db.write() as s:  # an admin makes the account admin by mistake ...
        users_store.update_user(s, Actor("root", "admin"), a.username, role="admin")
    c = _session(db, "auditor")  # ... the next launch sets the configured role again
    assert c.role == "auditor"
    with db.read() as s:
        user = users_store.session_user(s, token_hash(c.token))
        assert user is not None and user.role == "auditor"
    with pytest.raises(ValueError, match="never admin"):
        _session(db, "admin")
    with db.write() as s:
        users_store.update_user(s, Actor("root", "admin"), a.username, active=False)
    with pytest.raises(smart_data.AccountDisabled):
        _session(db, "clinician")


def test_a_role_that_may_not_write_only_finds_what_exists(db: Database) -> None:
    actor = Actor("smart-x", "auditor")
    kw = {"iss": ISS, "fhir_patient": "p1", "info": INFO, "comment": "c"}
    none = smart_data.open_case(db, actor, case_data=CASE, write=False, **kw)
    assert none == smart_data.Opened(None, None, False)
    made = smart_data.open_case(
        db,
        Actor("smart-y", "clinician"),
        case_data=CASE,
        write=True,
        **kw,
    )
    assert made.new_version and made.case is not None and made.case["version"] == 1
    seen = smart_data.open_case(db, actor, case_data={**CASE, "x": 1}, write=False, **kw)
    assert seen.case is not None and seen.case["id"] == made.case["id"] and not seen.new_version


def test_one_case_per_ehr_patient_new_version_only_on_change(db: Database) -> None:
    actor = Actor("smart-y", "clinician")
    kw = {"iss": ISS, "fhir_patient": "p1", "info": INFO, "comment": "c", "write": True}
    first = smart_data.open_case(db, actor, case_data=CASE, **kw)
    again = smart_data.open_case(db, actor, case_data=CASE, **kw)
    assert again.case is not None and first.case is not None
    assert again.case["id"] == first.case["id"] and not again.new_version
    changed = {**CASE, "pathology": {"ki67_percent": 12.0}}
    newer = smart_data.open_case(db, actor, case_data=changed, **kw)
    assert newer.new_version and newer.case is not None and newer.case["version"] == 2
    assert newer.patient_id == first.patient_id
    assert smart_data.latest_case_by_mrn(db, "MRN-77") == (
        first.case["id"],
        smart_data.case_title(ISS, "p1"),
    )
    assert smart_data.latest_case_by_mrn(db, "MRN-none") is None
    assert smart_data.latest_case_by_mrn(db, None) is None
