"""An assessment as FHIR R4: Observations (classification, grade, TNM; mCODE profiles and
codes), the recommendations as a RequestGroup, and a GuidanceResponse (CPG-on-FHIR) whose status
is ``success`` or ``data-required`` with the missing data as ``dataRequirement``.

Everything is a proposal for the MDT: the RequestGroup is ``draft``/``proposal``.
"""

from __future__ import annotations

from typing import Any

from nenguide.interop.fhir.codes import (
    JSON,
    coding,
    concept,
    field_coding,
    stable_uuid,
)
from nenguide.interop.fhir.mapping import Mapping, load_mapping
from nenguide.model.assessment import Assessment

#: mCODE TNM codes (LOINC) by staging basis: clinical (c) or pathologic (p, yp).
_TNM_LOINC = {
    "c": {"t": "21905-5", "n": "21906-3", "m": "21907-1", "group": "21908-9"},
    "p": {"t": "21899-0", "n": "21900-6", "m": "21901-4", "group": "21902-2"},
}
_TNM_PROFILE = {"t": "t_category", "n": "n_category", "m": "m_category", "group": "stage_group"}


class _Export:
    def __init__(self, a: Assessment, subject: str) -> None:
        self.m: Mapping = load_mapping()
        self.a = a
        self.subject = {"reference": subject}
        self.key = f"{subject}/{a.case_id}/{a.as_of}/{a.guideline.content_hash}"
        self.entries: list[JSON] = []

    def add(self, resource: JSON) -> str:
        url = "urn:uuid:" + stable_uuid(self.key, str(len(self.entries)))
        rtype = resource.pop("resourceType")
        self.entries.append(
            {"fullUrl": url, "resource": {"resourceType": rtype, "id": url[9:], **resource}}
        )
        return url

    def observation(
        self, profile: str | None, code: JSON, value: JSON, final: bool, **rest: Any
    ) -> str:
        obs: JSON = {"resourceType": "Observation"}
        if profile:
            obs["meta"] = {"profile": [self.m.profiles[profile]]}
        obs |= {
            "status": "final" if final else "preliminary",
            "code": code,
            "subject": self.subject,
            "effectiveDateTime": self.a.as_of.isoformat(),
            "valueCodeableConcept": value,
        }
        obs |= rest
        return self.add(obs)

    def local(self, system: str, code: str, display: str | None = None) -> JSON:
        return concept(coding(self.m, system, code, display), text=display or code)

    # ------------------------------------------------------------------ results

    def classification(self) -> list[str]:
        c, m, refs = self.a.classification, self.m, []
        final = c.status == "DETERMINED"
        method = concept(text=c.system) if c.system else None
        extra: JSON = {"method": method} if method else {}
        if c.category is not None:
            label = c.category + (f" ({c.nec_subtype.replace('_', ' ')})" if c.nec_subtype else "")
            code = concept(
                coding(
                    m,
                    "assessment",
                    "classification",
                    m.assessment_codes["classification"]["display"],
                )
            )
            refs.append(
                self.observation(
                    None, code, self.local("assessment", c.category, label), final, **extra
                )
            )
        if c.grade is not None:
            g = m.assessment_codes["grade"]
            code = concept(coding(m, g["system"], g["code"], g["display"]))
            refs.append(
                self.observation(
                    "histologic_grade",
                    code,
                    self.local("assessment", c.grade, f"WHO {c.grade}"),
                    final,
                    **extra,
                )
            )
        return refs

    def stage(self) -> list[str]:
        st, m = self.a.stage, self.m
        if st.prefix is None:
            return []
        loinc = _TNM_LOINC["c" if st.prefix == "c" else "p"]
        final = st.status == "DETERMINED"
        method = {"method": concept(text=st.system)} if st.system else {}
        members: list[str] = []
        for part in ("t", "n", "m"):
            value = getattr(st, part)
            if value is None:
                continue
            shown = st.prefix + value + (st.t_suffix or "" if part == "t" else "")
            members.append(
                self.observation(
                    _TNM_PROFILE[part],
                    concept(coding(m, "loinc", loinc[part])),
                    self.local("tnm", value, shown),
                    final,
                    **method,
                )
            )
        if st.group is None:
            return members
        has = {"hasMember": [{"reference": r} for r in members]} if members else {}
        group = self.observation(
            "stage_group",
            concept(coding(m, "loinc", loinc["group"])),
            self.local("tnm", st.group, f"Stage {st.group}"),
            final,
            **method,
            **has,
        )
        return [*members, group]

    # ------------------------------------------------------------------ recommendations

    def _docs(self, sources: list[str]) -> list[JSON]:
        return [{"type": "citation", "label": s, "display": s} for s in sources]

    def request_group(self) -> str:
        m, a = self.m, self.a
        workup = [
            {
                "title": w["text"],
                "description": w["reason"],
                "code": [concept(coding(m, "option", w["code"]))],
                "documentation": self._docs(w["sources"]),
                "textEquivalent": f"rule {w['rule_id']}",
            }
            for w in a.workup
        ]
        options = []
        for t in a.treatment:
            ext: list[JSON] = []
            if t["level"] is not None:
                ext.append(
                    {
                        "url": m.profiles["strength"],
                        "valueCodeableConcept": self.local(
                            "assessment",
                            f"CSCO-{t['level']}",
                            f"CSCO grade {t['level']} recommendation",
                        ),
                    }
                )
            if t["evidence"] is not None:
                ext.append(
                    {
                        "url": m.profiles["quality"],
                        "valueCodeableConcept": self.local(
                            "assessment",
                            f"CSCO-{t['evidence']}",
                            f"CSCO evidence category {t['evidence']}",
                        ),
                    }
                )
            action: JSON = {
                "title": t["text"],
                "description": "; ".join(t["because"] + t["caveats"]) or t["text"],
                "code": [concept(coding(m, "option", t["code"]), text=t["category"])],
                "documentation": self._docs(t["sources"]),
                "textEquivalent": f"rule {t['rule_id']}; intent {t['intent']}; level "
                + (t["level"] or f"not public ({t['level_status']})"),
            }
            if ext:
                action["extension"] = ext
            options.append(action)
        actions: list[JSON] = []
        if workup:
            actions.append({"title": "Work-up still needed", "action": workup})
        if options:
            actions.append(
                {
                    "title": "Treatment options (for MDT discussion)",
                    "selectionBehavior": "any",
                    "action": options,
                }
            )
        rg: JSON = {
            "resourceType": "RequestGroup",
            "status": "draft",
            "intent": "proposal",
            "subject": self.subject,
            "authoredOn": a.as_of.isoformat(),
            "instantiatesUri": [self.module_uri()],
            "note": [{"text": a.disclaimer}],
        }
        if actions:
            rg["action"] = actions
        return self.add(rg)

    # ------------------------------------------------------------------ guidance response

    def module_uri(self) -> str:
        g = self.a.guideline
        return f"https://nenguide.example/fhir/guideline/{g.id}/{g.version}"

    def requirement(self, fld: str) -> JSON:
        m = self.m
        rtype = "Observation"
        for prefix, t in sorted(m.data_requirement_types.items(), key=lambda kv: -len(kv[0])):
            if fld == prefix or fld.startswith(prefix + "."):
                rtype = t
                break
        codes = [field_coding(m, fld)]
        for s in m.scalars:
            if s.field == fld and s.code is not None:
                codes.insert(0, coding(m, s.code.system, s.code.code, s.code.display))
        return {
            "type": rtype,
            "mustSupport": [fld],
            "codeFilter": [{"path": "code", "code": codes}],
        }

    def outcome(self) -> str:
        sev = self.m.issue_severity
        issues = [
            {
                "severity": sev[str(i["kind"])],
                "code": "incomplete" if i["kind"] == "insufficient_data" else "informational",
                "details": concept(coding(self.m, "assessment", i["code"]), text=i["message"]),
                **({"expression": i["fields"]} if i["fields"] else {}),
            }
            for i in self.a.issues
        ] or [{"severity": "information", "code": "informational", "diagnostics": "no issues"}]
        return self.add({"resourceType": "OperationOutcome", "issue": issues})

    def guidance_response(self, results: list[str], rg: str, oo: str) -> None:
        missing: list[str] = []
        for i in self.a.issues:
            if i["kind"] == "insufficient_data":
                missing += [f for f in i["fields"] if f not in missing]
        gr: JSON = {
            "resourceType": "GuidanceResponse",
            "requestIdentifier": {
                "system": "urn:ietf:rfc:3986",
                "value": "urn:uuid:" + stable_uuid(self.key, "request"),
            },
            "moduleUri": self.module_uri(),
            "status": "data-required" if missing else "success",
            "subject": self.subject,
            "occurrenceDateTime": self.a.as_of.isoformat(),
            "evaluationMessage": [{"reference": oo}],
            "result": {"reference": rg},
        }
        if missing:
            gr["dataRequirement"] = [self.requirement(f) for f in missing]
        if results:
            gr["outputParameters"] = {"reference": self.parameters(results)}
        self.add(gr)

    def parameters(self, results: list[str]) -> str:
        return self.add(
            {
                "resourceType": "Parameters",
                "parameter": [
                    {"name": "result", "valueReference": {"reference": r}} for r in results
                ],
            }
        )


def assessment_to_bundle(assessment: Assessment, subject: str) -> JSON:
    """The assessment as a FHIR R4 ``collection`` Bundle (validated with fhir.resources R4B).

    ``subject``: the reference of the patient (e.g. ``Patient/123`` or a ``urn:uuid:``).
    """
    from fhir.resources.R4B.bundle import Bundle

    e = _Export(assessment, subject)
    results = e.classification() + e.stage()
    rg = e.request_group()
    oo = e.outcome()
    e.guidance_response(results, rg, oo)
    bundle: JSON = {"resourceType": "Bundle", "type": "collection", "entry": e.entries}
    Bundle.model_validate(bundle)
    return bundle
