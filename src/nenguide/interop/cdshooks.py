"""CDS Hooks 2.0: the discovery document, the ``nenguide-patient-view`` service's prefetch
templates, prefetch -> one FHIR Bundle, and cards from an assessment.

Pure functions; the HTTP routes are ``nenguide.api.routes.cdshooks`` (which also authenticate the
EHR's JWT: ``nenguide.api.cds_auth``).
"""

from __future__ import annotations

import uuid
from typing import Any

from nenguide.interop.fhir.result import ImportResult
from nenguide.model.assessment import Assessment

JSON = dict[str, Any]
SERVICE_ID = "nenguide-patient-view"

#: What the service reads (the data of docs/fhir.md), one FHIR query per kind of resource.
PREFETCH: dict[str, str] = {
    "patient": "Patient/{{context.patientId}}",
    "conditions": "Condition?patient={{context.patientId}}",
    "observations": "Observation?patient={{context.patientId}}",
    "procedures": "Procedure?patient={{context.patientId}}",
    "medicationStatements": "MedicationStatement?patient={{context.patientId}}",
    "medicationAdministrations": "MedicationAdministration?patient={{context.patientId}}",
    "familyHistory": "FamilyMemberHistory?patient={{context.patientId}}",
    "lists": "List?patient={{context.patientId}}",
}

#: Categories the CDS card marks critical when no therapy is recorded (a NEC needs a
#: first-line plan without delay: CSCO 2021 NEC chapter, platinum-etoposide first line).
_NEC = {"NEC", "SCLC", "LCNEC", "MiNEN"}


def discovery() -> JSON:
    return {
        "services": [
            {
                "hook": "patient-view",
                "id": SERVICE_ID,
                "title": "nenguide: neuroendocrine neoplasm MDT summary",
                "description": (
                    "Classification, grade, stage, work-up still needed and treatment options "
                    "(CSCO 2021 NEN guideline) for a patient with a neuroendocrine neoplasm, "
                    "with the data still missing. Supports the MDT; does not replace it."
                ),
                "prefetch": PREFETCH,
            }
        ]
    }


class PrefetchError(ValueError):
    """Prefetch is missing or unusable; the service answers 412 (CDS Hooks 2.0)."""


def missing_prefetch(prefetch: Any) -> list[str]:
    """The prefetch keys not sent (all of them when there is no prefetch)."""
    if not isinstance(prefetch, dict):
        return list(PREFETCH)
    return [k for k in PREFETCH if k not in prefetch]


def query(key: str, patient_id: str) -> str:
    """The FHIR query of a prefetch template for one patient (relative to fhirServer)."""
    return PREFETCH[key].replace("{{context.patientId}}", patient_id)


def prefetch_bundle(prefetch: Any) -> JSON:
    """The prefetched resources as one ``collection`` Bundle. Every template key must be
    present (a null value means 'none found'); the caller fetches missing ones first."""
    missing = missing_prefetch(prefetch)
    if missing:
        raise PrefetchError(
            "prefetch is missing "
            + ", ".join(missing)
            + " and no fhirServer was given to fetch them from"
        )
    assert isinstance(prefetch, dict)
    entries: list[JSON] = []
    for key in PREFETCH:
        value = prefetch[key]
        if value is None:
            continue
        if not isinstance(value, dict):
            raise PrefetchError(f"prefetch '{key}' is not a FHIR resource or Bundle")
        if value.get("resourceType") == "Bundle":
            entries += [e for e in value.get("entry") or [] if isinstance(e, dict)]
        else:
            entries.append({"resource": value})
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def check_patient(bundle: JSON, patient_id: str) -> None:
    """Every prefetched resource is the context's patient's: the Patient itself (its id), and
    each other resource's ``subject`` or ``patient`` reference (``Patient/<id>``, relative or
    absolute). A card built from another patient's record and shown under this one would be
    the worst answer the service could give, so another patient, or a reference that names
    none (``urn:uuid:...``), is a :class:`PrefetchError` (412) naming it."""
    want = f"Patient/{patient_id}"
    for e in bundle.get("entry") or []:
        r = e.get("resource")
        if not isinstance(r, dict):
            continue
        kind = r.get("resourceType")
        if kind == "Patient":
            refs = [f"Patient/{r.get('id')}"]
        else:
            refs = [
                str(ref.get("reference"))
                for ref in (r.get("subject"), r.get("patient"))
                if isinstance(ref, dict) and ref.get("reference") is not None
            ]
        for ref in refs:
            # an absolute reference (https://ehr/fhir/Patient/p1) by its last two parts
            if "/".join(ref.rstrip("/").split("/")[-2:]) != want:
                raise PrefetchError(
                    f"prefetch holds a {kind} of {ref}, not of the context's {want}: "
                    "every prefetched resource must be the patient's the hook is about"
                )


def _short(text: str, limit: int = 139) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _headline(a: Assessment) -> str:
    c, st = a.classification, a.stage
    what: str = c.category or "NEN, class not determined"
    if c.grade:
        what += f" {c.grade}"
    stage = ""
    if st.group:
        stage = f", stage {st.group}"
        if st.t and st.n and st.m:
            stage += f" ({st.prefix or ''}{st.t} {st.n} {st.m})"
    return what + stage


def _detail(a: Assessment, imported: ImportResult) -> str:
    lines = [f"**{_headline(a)}** ({a.guideline.title}, version {a.guideline.version})", ""]
    c = a.classification
    if c.grade:
        lines.append(
            f"- Grade: Ki-67 → {c.grade_by_ki67 or '?'}, mitoses → "
            f"{c.grade_by_mitoses or '?'} ({c.system})"
        )
    if a.stage.system:
        lines.append(f"- Stage: {a.stage.system}")
    if a.treatment:
        lines += ["", "**Treatment options for MDT discussion**"]
        for t in a.treatment:
            level = f"CSCO level {t['level']}" if t["level"] else "level not confirmed"
            lines.append(
                f"- {t['text']} ({level}; rule {t['rule_id']}; sources: {', '.join(t['sources'])})"
            )
    if a.workup:
        lines += ["", "**Work-up still needed**"]
        lines += [f"- {w['text']}: {w['reason']} ({', '.join(w['sources'])})" for w in a.workup]
    missing = [i for i in a.issues if i["kind"].value in ("insufficient_data", "conflict")]
    if missing:
        lines += ["", "**Missing or conflicting data**"]
        lines += [f"- {i['message']}" for i in missing]
    if imported.unmapped:
        lines += [
            "",
            f"{len(imported.unmapped)} FHIR resource(s) or code(s) were not used "
            "(see nenguide's import report).",
        ]
    lines += ["", f"_{a.disclaimer}_"]
    return "\n".join(lines)


def _indicator(a: Assessment, imported: ImportResult) -> str:
    case = imported.case
    no_therapy = case is not None and not case.clinical.prior_therapies
    if a.classification.category in _NEC and no_therapy:
        return "critical"
    if any(i["kind"].value in ("insufficient_data", "conflict") for i in a.issues):
        return "warning"
    return "info"


def _service_request(patient: str, text: str) -> JSON:
    return {
        "resourceType": "ServiceRequest",
        "status": "draft",
        "intent": "proposal",
        "code": {"text": text},
        "subject": {"reference": patient},
    }


def _suggestions(a: Assessment, patient: str) -> list[JSON]:
    out: list[JSON] = []
    for w in a.workup:
        if "SSTR" in w["code"].upper():
            out.append(
                {
                    "label": f"Order: {w['text']}",
                    "uuid": str(uuid.uuid4()),
                    "actions": [
                        {
                            "type": "create",
                            "description": w["reason"],
                            "resource": _service_request(patient, w["text"]),
                        }
                    ],
                }
            )
    h = a.hereditary
    if h is not None and h["testing_recommended"]:
        genes = ", ".join(h["genes"]) or "germline panel"
        text = f"Genetic counselling and germline testing ({genes})"
        out.append(
            {
                "label": f"Refer: {text}",
                "uuid": str(uuid.uuid4()),
                "actions": [
                    {
                        "type": "create",
                        "description": "; ".join(h["because"]) or text,
                        "resource": _service_request(patient, text),
                    }
                ],
            }
        )
    return out


def cards(
    a: Assessment,
    imported: ImportResult,
    *,
    patient: str,
    source_url: str,
    override_reasons: tuple[str, ...],
    links: list[JSON] | None = None,
) -> list[JSON]:
    """The cards for one patient: the MDT summary (with suggestions where an order fits and the
    ``links`` back to nenguide: see :func:`case_links`)."""
    summary = _short(f"nenguide: {_headline(a)}; {len(a.treatment)} option(s) for the MDT")
    card: JSON = {
        "uuid": str(uuid.uuid4()),
        "summary": summary,
        "detail": _detail(a, imported),
        "indicator": _indicator(a, imported),
        "source": {
            "label": f"nenguide {a.engine_version}: {a.guideline.title} {a.guideline.version}",
            "url": source_url,
            "topic": {
                "system": "https://nenguide.example/fhir/CodeSystem/cds-topic",
                "code": "nen-mdt-summary",
                "display": "NEN MDT summary",
            },
        },
        "overrideReasons": [
            {
                "system": "https://nenguide.example/fhir/CodeSystem/departure-reason",
                "code": r,
                "display": r.replace("_", " "),
            }
            for r in override_reasons
        ],
    }
    if links:
        card["links"] = links
    suggestions = _suggestions(a, patient)
    if suggestions:
        card["suggestions"] = suggestions
        card["selectionBehavior"] = "any"
    return [card]


def case_links(base_url: str, *, smart_launch: bool, case: tuple[str, str] | None) -> list[JSON]:
    """CDS Hooks 2.0 ``links`` back to nenguide: a ``smart`` link to nenguide's SMART launch URL
    (the EHR launches it with ``iss`` and ``launch``; nenguide then opens the patient's case page)
    when SMART App Launch is configured, and an ``absolute`` link to the case page when the
    patient already has a case in nenguide (``case`` = (case id, title))."""
    base = base_url.rstrip("/")
    out: list[JSON] = []
    if smart_launch:
        out.append(
            {
                "label": "Open in nenguide (case page, patient from the chart)",
                "url": f"{base}/smart/launch",
                "type": "smart",
            }
        )
    if case is not None:
        case_id, title = case
        out.append(
            {
                "label": _short(f"nenguide case: {title}", 120),
                "url": f"{base}/cases/{case_id}",
                "type": "absolute",
            }
        )
    return out
