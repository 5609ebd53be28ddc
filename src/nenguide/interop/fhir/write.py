"""A case as a FHIR R4 Bundle (type ``collection``), mCODE-aligned.

Used to ship the demo patients as FHIR (``examples/fhir``) and by the round-trip tests: every
value of the case is written with a standard code where ``fhir_map.yaml`` has one and with
nenguide's local code otherwise, so importing the Bundle gives the same case back.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from nenguide.interop.fhir.codes import (
    JSON,
    code_concept,
    coding,
    concept,
    field_coding,
    quantity,
    stable_uuid,
    typed_value,
    value_concept,
)
from nenguide.interop.fhir.mapping import Mapping, Scalar, load_mapping
from nenguide.model.case import Case
from nenguide.units import AnalyteCatalogue


def _get(obj: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if obj is None:
            return None
        obj = getattr(obj, part)
    return obj


class _Writer:
    def __init__(
        self, case: Case, catalogue: AnalyteCatalogue | None, key: str, admin: JSON
    ) -> None:
        self.admin = admin
        self.m: Mapping = load_mapping()
        self.case = case
        self.catalogue = catalogue
        self.key = key
        self.entries: list[JSON] = []
        self.patient_url = self._url("Patient", "0")

    def _url(self, rtype: str, n: str) -> str:
        return "urn:uuid:" + stable_uuid(self.key, rtype, n)

    def add(self, resource: JSON) -> None:
        n = str(len(self.entries))
        url = self._url(resource["resourceType"], n)
        resource = {"resourceType": resource["resourceType"], "id": url[9:], **resource}
        self.entries.append({"fullUrl": url, "resource": resource})

    def subject(self) -> JSON:
        return {"reference": self.patient_url}

    def observation(self, code: JSON, *, profile: str | None = None, **rest: Any) -> JSON:
        obs: JSON = {"resourceType": "Observation"}
        if profile:
            obs["meta"] = {"profile": [self.m.profiles[profile]]}
        obs |= {"status": "final", "code": code, "subject": self.subject()}
        obs.update(rest)
        return obs

    # ---------------------------------------------------------------- sections

    def patient(self) -> None:
        p = self.case.patient
        res: JSON = {"resourceType": "Patient", "id": self.patient_url[9:]}
        res |= self.admin
        if p.sex is not None:
            res["gender"] = p.sex.value
        self.entries.append({"fullUrl": self.patient_url, "resource": res})

    def primary(self) -> None:
        m, t, path = self.m, self.case.tumour, self.case.pathology
        site = m.primary_sites[t.primary_site.value]
        body = [coding(m, "value", t.primary_site.value, site.display)]
        if site.snomed:
            body.append(coding(m, "snomed", site.snomed, site.display))
        res: JSON = {
            "resourceType": "Condition",
            "meta": {"profile": [m.profiles["primary"]]},
            "clinicalStatus": concept(coding(m, "clinicalstatus", "active")),
            "code": concept(field_coding(m, "tumour"), text="Neuroendocrine neoplasm"),
            "bodySite": [concept(*body)],
            "subject": self.subject(),
        }
        for rule in m.morphology_export:
            diff = path.differentiation.value if path.differentiation else None
            morph = path.morphology.value if path.morphology else None
            if rule.differentiation == diff and rule.morphology in (None, morph):
                display = m.morphology_icdo3[rule.code].display
                res["extension"] = [
                    {
                        "url": m.profiles["histology"],
                        "valueCodeableConcept": concept(coding(m, "icdo3", rule.code, display)),
                    }
                ]
                break
        self.add(res)

    def metastases(self) -> None:
        m, mets = self.m, self.case.metastases
        if mets is None:
            return
        sites: list[tuple[str, int | None]] = []
        if mets.liver is not None:
            sites.append(("liver", None))
        sites += [(e.site.value, e.lesion_count) for e in mets.extrahepatic or ()]
        for site_code, count in sites:
            site = m.metastasis_sites[site_code]
            body = [coding(m, "value", site_code, site.display)]
            if site.snomed:
                body.append(coding(m, "snomed", site.snomed, site.display))
            res: JSON = {
                "resourceType": "Condition",
                "meta": {"profile": [m.profiles["secondary"]]},
                "clinicalStatus": concept(coding(m, "clinicalstatus", "active")),
                "code": concept(field_coding(m, "metastases"), text="Metastasis"),
                "bodySite": [concept(*body)],
                "subject": self.subject(),
            }
            if count is not None:
                res["extension"] = [{"url": m.ext("lesion-count"), "valueInteger": count}]
            if site_code == "liver" and mets.extrahepatic == ():
                # liver only, stated: an explicit "no extrahepatic metastases" (a missing list
                # is unknown, issue 8)
                res.setdefault("extension", []).append(
                    {"url": m.ext("extrahepatic-none"), "valueBoolean": True}
                )
            self.add(res)

    def scalar(self, s: Scalar) -> None:
        v = _get(self.case, s.field)
        if v is None:
            return
        m = self.m
        codes = [field_coding(m, s.field)]
        if s.code is not None:
            codes.insert(0, coding(m, s.code.system, s.code.code, s.code.display))
        rest: JSON = {}
        if s.value == "quantity":
            unit = next(iter(s.units))
            q = quantity(m, v, unit)
            if s.component is not None:  # mCODE TumorSize: the value is a component
                rest["component"] = [{"code": code_concept(m, s.component), "valueQuantity": q}]
            else:
                rest["valueQuantity"] = q
        elif s.value == "integer":
            rest["valueInteger"] = v
        elif s.value == "boolean":
            rest["valueBoolean"] = v
        elif type(v) is str:  # free text as reported (tumour.reported_pt)
            rest["valueString"] = v
        else:
            rest["valueCodeableConcept"] = value_concept(m, v.value)
        self.add(self.observation(concept(*codes), profile=s.profile, **rest))

    def component_maps(self) -> None:
        m = self.m
        for cm in m.component_maps:
            v = _get(self.case, cm.field)
            if v is None or (cm.value != "set" and not v):
                continue
            comps: list[JSON] = []
            rest: JSON = {}
            if cm.value == "set":
                for item in sorted(x.value for x in v):
                    comps.append({"code": value_concept(m, item), "valueBoolean": True})
                rest["valueInteger"] = len(comps)
            else:
                for k, val in v.items():
                    key = k.value if hasattr(k, "value") else str(k)
                    comps.append({"code": value_concept(m, key), **typed_value(m, val)})
            if comps:
                rest["component"] = comps
            self.add(self.observation(concept(field_coding(m, cm.field)), **rest))

    def _components(self, field: str, item: BaseModel, units: dict[str, str]) -> list[JSON]:
        comps: list[JSON] = []
        for name in type(item).model_fields:
            v = getattr(item, name)
            if v is None or isinstance(v, BaseModel):  # a nested object is an object of its own
                continue
            values = list(v) if isinstance(v, tuple) else [v]
            for one in values:
                code = concept(field_coding(self.m, f"{field}.{name}"))
                comps.append({"code": code, **typed_value(self.m, one, units.get(name))})
        return comps

    def objects(self) -> None:
        for om in self.m.objects:
            v = _get(self.case, om.field)
            items = list(v) if om.many else ([] if v is None else [v])
            for item in items:
                comps = self._components(om.field, item, om.units)
                obs = self.observation(concept(field_coding(self.m, om.field)))
                if comps:
                    obs["component"] = comps
                else:
                    obs["valueBoolean"] = True  # the object is present with no detail
                self.add(obs)

    def labs(self) -> None:
        m = self.m
        for lab in self.case.clinical.labs:
            if lab.value is None or lab.unit is None:
                # an interpretation or a multiple of the ULN has no Quantity: not exported
                continue
            loinc = lab.loinc
            analyte = self.catalogue.get(lab.analyte) if self.catalogue else None
            if loinc is None and analyte is not None:
                loinc = analyte.loinc
            codes = [coding(m, "analyte", lab.analyte)]
            if loinc:
                codes.insert(0, coding(m, "loinc", loinc))
            obs = self.observation(
                concept(*codes, text=analyte.names.en if analyte else lab.analyte),
                category=[concept(coding(m, "obscategory", "laboratory"))],
                valueQuantity=quantity(m, lab.value, lab.unit),
            )
            if lab.comparator is not None:  # a censored result (">1000")
                obs["valueQuantity"]["comparator"] = lab.comparator
            if lab.date is not None:
                obs["effectiveDateTime"] = lab.date.isoformat()
            rng: JSON = {}
            if lab.reference_low is not None:
                rng["low"] = quantity(m, lab.reference_low, lab.unit)
            if lab.reference_high is not None:
                rng["high"] = quantity(m, lab.reference_high, lab.unit)
            if rng:
                obs["referenceRange"] = [rng]
            comps = self._components("clinical.labs.context", lab.context, {})
            if comps:
                obs["component"] = comps
            self.add(obs)

    def therapies(self) -> None:
        m, given = self.m, self.case.clinical.prior_therapies
        if given is None:
            return
        if not given:
            self.nil_list("clinical.prior_therapies")
        for t in given:
            tc = m.therapies[t.therapy.value]
            code = concept(coding(m, "therapy", t.therapy.value, tc.display))
            period: JSON = {}
            if t.start is not None:
                period["start"] = t.start.isoformat()
            if t.end is not None:
                period["end"] = t.end.isoformat()
            exts = [
                {"url": m.ext(f"prior-therapy-{name}"), **typed_value(m, getattr(t, name))}
                for name in ("line", "progressed", "months_to_progression")
                if getattr(t, name) is not None
            ]
            res: JSON = {"resourceType": tc.resource}
            if exts:
                res["extension"] = exts
            if tc.resource == "Procedure":
                res |= {"status": "completed", "code": code, "subject": self.subject()}
                if period:
                    res["performedPeriod"] = period
            else:
                res |= {"status": "unknown", "medicationCodeableConcept": code}
                res["subject"] = self.subject()
                if period:
                    res["effectivePeriod"] = period
            self.add(res)

    def nil_list(self, field: str) -> None:
        self.add(
            {
                "resourceType": "List",
                "status": "current",
                "mode": "snapshot",
                "code": concept(field_coding(self.m, field)),
                "subject": self.subject(),
                "emptyReason": concept(coding(self.m, "listempty", "nilknown", "Nil Known")),
            }
        )

    def resection(self) -> None:
        m, r = self.m, self.case.clinical.resection
        if r is None:
            return
        code = concept(field_coding(m, "clinical.resection"), text=r.procedure)
        res: JSON = {
            "resourceType": "Procedure",
            "status": "completed" if r.performed else "not-done",
            "code": code,
            "subject": self.subject(),
        }
        if r.date is not None:
            res["performedDateTime"] = r.date.isoformat()
        if r.margin is not None:
            res["outcome"] = value_concept(m, r.margin.value)
        if r.endoscopic is not None:
            res["extension"] = [
                {"url": m.ext("resection-endoscopic"), "valueBoolean": r.endoscopic}
            ]
        self.add(res)

    def family(self) -> None:
        m, fam = self.m, self.case.clinical.family_history
        if fam is None:
            return
        if not fam:
            self.nil_list("clinical.family_history")
        for member in fam:
            res: JSON = {
                "resourceType": "FamilyMemberHistory",
                "status": "completed",
                "patient": self.subject(),
                "relationship": value_concept(m, member.relation.value),
            }
            exts: list[JSON] = []
            if member.has_nen is not None:
                exts.append({"url": m.ext("family-has-nen"), "valueBoolean": member.has_nen})
            if member.pathogenic_variant_gene is not None:
                exts.append(
                    {
                        "url": m.ext("family-pathogenic-variant-gene"),
                        "valueString": member.pathogenic_variant_gene,
                    }
                )
            if exts:
                res["extension"] = exts
            if member.findings:
                res["condition"] = [{"code": value_concept(m, f.value)} for f in member.findings]
            self.add(res)

    def germline(self) -> None:
        m, g = self.m, self.m.germline
        for result in self.case.clinical.germline:
            gene = concept(
                coding(m, "hgnc", g.genes[result.gene.value], result.gene.value),
                text=result.gene.value,
            )
            comps: list[JSON] = [
                {"code": code_concept(m, g.gene_component), "valueCodeableConcept": gene}
            ]
            if result.result == "negative":
                value = code_concept(m, g.absent)
            else:
                value = code_concept(m, g.present)
                sig = g.significance[result.result]
                comps.append(
                    {
                        "code": code_concept(m, g.significance_component),
                        "valueCodeableConcept": concept(coding(m, "loinc", sig.code, sig.display)),
                    }
                )
            self.add(
                self.observation(
                    code_concept(m, g.code),
                    profile="genomic_variant",
                    category=[concept(coding(m, "obscategory", "laboratory"))],
                    valueCodeableConcept=value,
                    component=comps,
                )
            )


def case_to_bundle(
    case: Case,
    catalogue: AnalyteCatalogue | None = None,
    *,
    patient_name: str | None = None,
    mrn: str | None = None,
) -> JSON:
    """The case as a FHIR R4 ``collection`` Bundle (JSON), validated with fhir.resources R4B.

    ``catalogue`` (the knowledge package's analyte catalogue) adds the LOINC code of each lab;
    ``patient_name`` and ``mrn`` fill Patient.name and Patient.identifier (administrative).
    """
    from fhir.resources.R4B.bundle import Bundle

    admin: JSON = {}
    if mrn:
        admin["identifier"] = [{"system": load_mapping().ext("mrn"), "value": mrn}]
    if patient_name:
        admin["name"] = [{"text": patient_name}]
    w = _Writer(case, catalogue, case.case_id or case.model_dump_json(), admin)
    w.patient()
    w.primary()
    w.metastases()
    for s in w.m.scalars:
        w.scalar(s)
    w.component_maps()
    w.objects()
    w.labs()
    w.resection()
    w.therapies()
    w.family()
    w.germline()
    bundle: JSON = {"resourceType": "Bundle", "type": "collection"}
    if case.case_id:
        bundle["identifier"] = {"system": w.m.ext("case-id"), "value": case.case_id}
    bundle["entry"] = w.entries
    Bundle.model_validate(bundle)  # raises if nenguide wrote invalid FHIR (a bug, not input)
    return bundle
