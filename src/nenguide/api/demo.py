"""Demo data for ``nenguide serve --demo``: users, three patients with realistic NEN cases and
their assessments, a scheduled MDT meeting with an agenda and follow-up tasks.

The names are invented. Demo mode uses its own database only (a database holding other data
is refused) and never changes a user that exists. Seeding is idempotent.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from nenguide import assess, load_knowledge, store
from nenguide.api.security import hash_password
from nenguide.errors import parse_case
from nenguide.store import Actor, Database, instance

SEED = Actor("demo-seed", "admin")
DEMO_USERS = {
    "demo-admin": "admin",
    "demo-clinician": "clinician",
    "demo-coordinator": "coordinator",
    "demo-auditor": "auditor",
}

PNET_G2_LIVER: dict[str, Any] = {
    "patient": {"age_years": 58, "sex": "female", "ecog": 1},
    "tumour": {"primary_site": "pancreas", "size_cm": 3.4, "extent": "confined_to_pancreas"},
    "regional_nodes": {"examined": 14, "positive": 2},
    "metastases": {
        "status": "present",
        "liver": {
            "lesion_count": 5,
            "extent": "bilobar",
            "resectability": "resection_with_ablation_or_staged",
            "diffuse": False,
            "largest_cm": 4.1,
        },
        "extrahepatic": [],
    },
    "pathology": {
        "differentiation": "well",
        "ki67_percent": 8,
        "mitoses_per_2mm2": 3,
        "ihc": {"synaptophysin": "positive", "chromogranin_a": "positive"},
    },
    "staging_basis": "pathological",
}

RECTAL_NET_G1: dict[str, Any] = {
    "patient": {"age_years": 47, "sex": "male", "ecog": 0},
    "tumour": {"primary_site": "rectum", "size_cm": 0.8, "extent": "submucosa"},
    "regional_nodes": {"status": "negative"},
    "metastases": {"status": "none"},
    "pathology": {"differentiation": "well", "ki67_percent": 1.5, "mitoses_per_2mm2": 1},
    "staging_basis": "pathological",
}

SMALL_BOWEL_NET: dict[str, Any] = {
    "patient": {"age_years": 64, "sex": "male", "ecog": 1},
    "tumour": {
        "primary_site": "ileum",
        "size_cm": 1.8,
        "extent": "subserosa",
        "number_of_tumours": 2,
    },
    "regional_nodes": {"examined": 15, "positive": 6, "mesenteric_mass_cm": 3.0},
    "metastases": {
        "status": "present",
        "liver": {"lesion_count": 12, "extent": "bilobar", "resectability": "unresectable"},
    },
    "pathology": {"differentiation": "well", "ki67_percent": 2.0, "mitoses_per_2mm2": 1},
    "staging_basis": "pathological",
}

PATIENTS = [
    (
        "DEMO-0001",
        "Li Hua (demo)",
        dt.date(1967, 3, 14),
        "female",
        "Pancreatic NET G2, liver metastases",
        PNET_G2_LIVER,
    ),
    (
        "DEMO-0002",
        "Wang Wei (demo)",
        dt.date(1978, 9, 2),
        "male",
        "Rectal NET G1, 0.8 cm",
        RECTAL_NET_G1,
    ),
    (
        "DEMO-0003",
        "Zhang Min (demo)",
        dt.date(1961, 11, 27),
        "male",
        "Small-bowel (ileal) NET, mesenteric mass",
        SMALL_BOWEL_NET,
    ),
]


def seed(db: Database, *, today: dt.date | None = None) -> dict[str, str]:
    """Seed a demo database: refuses one that is not (see ``instance.check_demo``), marks it
    as a demo database, creates the demo users that do not exist and the demo data unless
    present. Users that exist are never changed (a demo admin an admin disabled stays
    disabled). Returns the active demo users with the demo password set when the demo
    database was made, so ``serve`` can show it."""
    instance.check_demo(db)
    today = today or dt.date.today()
    creds = {}
    with db.write() as s:
        instance.put(s, instance.MODE, instance.DEMO)
        password = instance.get(s, instance.DEMO_PASSWORD)
        if password is None:
            password = secrets.token_urlsafe(12)
            instance.put(s, instance.DEMO_PASSWORD, password)
        pw_hash: str | None = None
        for username, role in DEMO_USERS.items():
            user = store.users.get_user(s, username)
            if user is None:
                pw_hash = pw_hash or hash_password(password)
                store.users.create_user(
                    s,
                    SEED,
                    username=username,
                    role=role,
                    password_hash=pw_hash,
                    display_name=f"Demo {role}",
                )
            elif not user.active:
                continue
            creds[username] = password
        patients, _ = store.patients.list_patients(s, q="DEMO-0001")
        if patients:
            return creds
        kb = load_knowledge()
        case_ids = []
        assessment_ids = []
        for mrn, name, born, sex, title, data in PATIENTS:
            p = store.patients.create_patient(s, SEED, name=name, mrn=mrn, birth_date=born, sex=sex)
            case = parse_case(data)
            c = store.cases.create_case(
                s,
                SEED,
                patient_id=p["id"],
                title=title,
                data=case.model_dump(mode="json", exclude_none=True),
                comment="demo case",
            )
            result = assess(case, kb, as_of=today).model_dump(mode="json")
            a = store.assessments.add_assessment(
                s, SEED, case_id=c["id"], case_version=1, result=result
            )
            case_ids.append(c["id"])
            assessment_ids.append(a["id"])
        meeting_at = dt.datetime.combine(
            today + dt.timedelta(days=(3 - today.weekday()) % 7 or 7), dt.time(13, 0), dt.UTC
        )
        mt = store.meetings.create_meeting(
            s,
            SEED,
            title="NEN MDT (demo)",
            scheduled_at=meeting_at,
            location="Oncology conference room 3",
        )
        for name, specialty in [
            ("Dr Chen (demo)", "pathology"),
            ("Dr Zhou (demo)", "medical_oncology"),
            ("Dr Sun (demo)", "surgery"),
            ("Dr Wu (demo)", "radiology"),
            ("Dr Zhao (demo)", "nuclear_medicine"),
            ("Nurse Liu (demo)", "nursing"),
        ]:
            store.meetings.add_attendee(s, SEED, mt["id"], name=name, specialty=specialty)
        questions = [
            "Liver-directed therapy or systemic treatment first?",
            "Endoscopic resection complete; is any further treatment or surveillance needed?",
            "Resection of primary and mesenteric mass with unresectable liver disease?",
        ]
        for cid, aid, q in zip(case_ids, assessment_ids, questions, strict=True):
            store.meetings.add_agenda_item(
                s, SEED, mt["id"], case_id=cid, assessment_id=aid, question=q
            )
        tasks = [
            (0, today + dt.timedelta(days=30), ["CT abdomen (multiphase)", "CgA"]),
            (1, today - dt.timedelta(days=10), ["Colonoscopy"]),
            (2, today + dt.timedelta(days=90), ["SSTR PET/CT", "5-HIAA (24 h urine)"]),
        ]
        # The engine's own follow-up schedule for the first patient, when it proposes one (the
        # others keep hand-made tasks, so a new user sees both kinds without a long list).
        first = store.assessments.get_assessment(s, assessment_ids[0])
        if store.followup.schedule_visits(first["result"]):
            store.followup.generate_tasks(s, SEED, assessment_ids[0])
        for n, due, exams in tasks:
            store.followup.create_task(
                s,
                SEED,
                case_id=case_ids[n],
                due=due,
                exams=exams,
                description="demo follow-up",
                assessment_id=assessment_ids[n],
            )
    return creds
