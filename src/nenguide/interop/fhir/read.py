"""A FHIR R4 Bundle (mCODE-aligned) as a nenguide case.

Each entry is parsed with the fhir.resources R4B model of its type; then every resource is
matched against the tables of ``fhir_map.yaml``. Nothing is dropped silently: a resource, code,
unit or value that does not fill a case field is listed in ``unmapped`` with the reason. When
several resources give one field, the latest (effective date) wins and the choice is listed in
``notes``; when they cannot be ordered by date and disagree, the field stays unknown (conflict).
A field the Bundle does not give stays unknown: nothing is defaulted.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pint

from nenguide.interop.fhir.codes import (
    JSON,
    code_of,
    codings,
    describe,
    extension_value,
    read_value,
    when,
)
from nenguide.interop.fhir.mapping import Mapping, Scalar, load_mapping
from nenguide.interop.fhir.result import Note, Unmapped
from nenguide.units import AnalyteCatalogue, LabInputError, parse_unit

_OBS_OK = {"final", "amended", "corrected", "preliminary"}


class _Skip(Exception):
    """This resource/element does not fill the field; the message says why."""

    def __init__(self, reason: str, element: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.element = element


@dataclass
class _Cand:
    value: Any
    date: dt.date | None
    ref: str


@dataclass
class _State:
    cands: dict[str, list[_Cand]] = field(default_factory=dict)
    fallback: dict[str, list[_Cand]] = field(default_factory=dict)  # from ICD-O-3 morphology
    objects: dict[str, list[JSON]] = field(default_factory=dict)
    labs: list[tuple[JSON, str]] = field(default_factory=list)
    therapies: list[JSON] = field(default_factory=list)
    family: list[JSON] = field(default_factory=list)
    germline: list[JSON] = field(default_factory=list)
    extrahepatic: list[JSON] = field(default_factory=list)
    liver_conditions: int = 0
    extrahepatic_none: bool = False  # the liver Condition states "no extrahepatic metastases"
    nil: set[str] = field(default_factory=set)
    birth_date: dt.date | None = None
    patients: int = 0
    patient: JSON = field(default_factory=dict)
    unmapped: list[Unmapped] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)


def _set(d: JSON, dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    for p in parts[:-1]:
        d = d.setdefault(p, {})
    d[parts[-1]] = value


class _Reader:
    def __init__(self, catalogue: AnalyteCatalogue) -> None:
        self.m: Mapping = load_mapping()
        m = self.m
        self.catalogue = catalogue
        self.s = _State()
        self.scalars: dict[tuple[str, str], Scalar] = {}
        for sc in m.scalars:
            self.scalars[(m.url("field"), sc.field)] = sc
            if sc.code is not None:
                url = m.url(sc.code.system)
                for c in [sc.code.code, *sc.also]:
                    self.scalars[(url, c)] = sc
        self.cmaps = {cm.field: cm for cm in m.component_maps}
        self.objs = {om.field: om for om in m.objects}
        self.derived = {
            (m.url(d.system), c): d.reason for d in m.derived_elsewhere for c in d.codes
        }
        self.analyte_by_loinc = {
            a.loinc: a.code for a in catalogue.analytes.values() if a.loinc is not None
        }
        self.site_by_snomed = {
            v.snomed: k for k, v in m.primary_sites.items() if v.snomed is not None
        }
        self.met_by_snomed = {
            v.snomed: k for k, v in m.metastasis_sites.items() if v.snomed is not None
        }
        self.atc = {c: k for k, t in m.therapies.items() for c in t.atc}
        self.relation = {c: k for k, codes in m.family_relations.items() for c in codes}
        self.hgnc = {v: k for k, v in m.germline.genes.items()}

    # ------------------------------------------------------------------ helpers

    def unmapped(
        self,
        ref: str,
        reason: str,
        *,
        element: str | None = None,
        code: str | None = None,
        fld: str | None = None,
    ) -> None:
        self.s.unmapped.append(
            Unmapped(resource=ref, element=element, code=code, field=fld, reason=reason)
        )

    def cand(self, fld: str, value: Any, res: JSON, ref: str, *, fallback: bool = False) -> None:
        target = self.s.fallback if fallback else self.s.cands
        target.setdefault(fld, []).append(_Cand(value, when(res), ref))

    def local_field(self, cc: Any) -> str | None:
        return code_of(cc, self.m.url("field"))

    def value_code(self, cc: Any) -> str | None:
        return code_of(cc, self.m.url("value"))

    # ------------------------------------------------------------------ dispatch

    def read(self, res: JSON, ref: str) -> None:
        rtype = res.get("resourceType")
        handler = getattr(self, f"r_{rtype}", None)
        if handler is None:
            self.unmapped(ref, f"resource type {rtype} is not read by nenguide")
            return
        try:
            handler(res, ref)
        except _Skip as skip:
            self.unmapped(ref, skip.reason, element=skip.element)

    def r_Patient(self, res: JSON, ref: str) -> None:
        self.s.patients += 1
        if self.s.patients > 1:
            raise _Skip("more than one Patient in the Bundle: only the first is read")
        names = res.get("name") or [{}]
        name = (
            names[0].get("text")
            or " ".join([*names[0].get("given", []), names[0].get("family", "")]).strip()
        )
        ids = [i.get("value") for i in res.get("identifier") or [] if i.get("value")]
        self.s.patient = {
            "reference": ref,
            "name": name or None,
            "identifier": ids[0] if ids else None,
            "birth_date": res.get("birthDate"),
        }
        gender = res.get("gender")
        if gender is not None:
            self.cand("patient.sex", gender, res, ref)
        bd = res.get("birthDate")
        if isinstance(bd, str) and len(bd) >= 10:
            self.s.birth_date = dt.date.fromisoformat(bd[:10])
        elif bd is not None:
            self.unmapped(ref, "birthDate is not a full date: age not derived", element="birthDate")

    def r_Condition(self, res: JSON, ref: str) -> None:
        m = self.m
        profiles = (res.get("meta") or {}).get("profile") or []
        local = self.local_field(res.get("code"))
        status = code_of(res.get("clinicalStatus"), m.url("clinicalstatus"))
        verification = describe(res.get("verificationStatus"))
        if "refuted" in verification or "entered-in-error" in verification:
            raise _Skip("verificationStatus is refuted or entered-in-error", "verificationStatus")
        if status in ("inactive", "resolved", "remission"):
            raise _Skip(f"clinicalStatus is '{status}': not current disease", "clinicalStatus")
        if m.profiles["primary"] in profiles or local == "tumour":
            self.primary(res, ref)
        elif m.profiles["secondary"] in profiles or local == "metastases":
            self.secondary(res, ref)
        else:
            raise _Skip(
                "Condition is neither an mCODE PrimaryCancerCondition nor a "
                "SecondaryCancerCondition (symptoms and history are read from nenguide-coded "
                f"Observations): {describe(res.get('code'))}",
                "code",
            )

    def _body_site(self, res: JSON, table: dict[str, str], known: set[str]) -> str:
        for cc in res.get("bodySite") or []:
            local = self.value_code(cc)
            if local in known:
                return local
            snomed = code_of(cc, self.m.url("snomed"))
            if snomed in table:
                return table[snomed]
        raise _Skip(
            f"body site not mapped: {describe((res.get('bodySite') or [None])[0])}", "bodySite"
        )

    def primary(self, res: JSON, ref: str) -> None:
        m = self.m
        site = self._body_site(res, self.site_by_snomed, set(m.primary_sites))
        self.cand("tumour.primary_site", site, res, ref)
        for ext in res.get("extension") or []:
            if ext.get("url") != m.profiles["histology"]:
                self.unmapped(ref, "extension not read", element=f"extension {ext.get('url')}")
                continue
            cc = ext.get("valueCodeableConcept")
            code = code_of(cc, m.url("icdo3"))
            morph = m.morphology_icdo3.get(code or "")
            if morph is None:
                self.unmapped(
                    ref,
                    "morphology code not mapped (ICD-O-3 codes of NENs are listed in "
                    "fhir_map.yaml)",
                    element="extension histology-morphology-behavior",
                    code=describe(cc),
                    fld="pathology.differentiation",
                )
                continue
            self.cand("pathology.differentiation", morph.differentiation, res, ref, fallback=True)
            if morph.morphology:
                self.cand("pathology.morphology", morph.morphology, res, ref, fallback=True)

    def secondary(self, res: JSON, ref: str) -> None:
        m = self.m
        site = self._body_site(res, self.met_by_snomed, set(m.metastasis_sites))
        count = extension_value(res, m.ext("lesion-count"))
        if site == "liver":
            self.s.liver_conditions += 1
            if extension_value(res, m.ext("extrahepatic-none")) is True:
                self.s.extrahepatic_none = True
        else:
            item: JSON = {"site": site}
            if count is not None:
                item["lesion_count"] = count
            self.s.extrahepatic.append(item)

    def r_Observation(self, res: JSON, ref: str) -> None:
        m = self.m
        status = res.get("status")
        if status not in _OBS_OK:
            raise _Skip(
                f"status '{status}': only final, amended, corrected or preliminary "
                "results are read",
                "status",
            )
        code = res.get("code")
        if code_of(code, m.url(m.germline.code.system)) == m.germline.code.code:
            self.germline(res, ref)
            return
        local = self.local_field(code)
        if local is not None:
            if local in self.cmaps:
                self.component_map(local, res, ref)
            elif local in self.objs:
                self.object(local, res, ref)
            elif (m.url("field"), local) in self.scalars:
                self.scalar(self.scalars[(m.url("field"), local)], res, ref)
            else:
                raise _Skip(f"unknown nenguide case-field code '{local}'", "code")
            return
        for system, c in codings(code):
            if (system, c) in self.scalars:
                self.scalar(self.scalars[(system, c)], res, ref)
                return
        analyte = code_of(code, m.url("analyte"))
        if analyte is None:
            loinc = code_of(code, m.url("loinc"))
            analyte = self.analyte_by_loinc.get(loinc or "")
        if analyte is not None:
            self.lab(analyte, res, ref)
            return
        for system, c in codings(code):
            if (system, c) in self.derived:
                raise _Skip(self.derived[(system, c)], "code")
        raise _Skip(f"observation code not mapped: {describe(code)}", "code")

    # ------------------------------------------------------------------ observations

    def scalar(self, sc: Scalar, res: JSON, ref: str) -> None:
        holder = res
        if sc.component is not None and "valueQuantity" not in res:
            for comp in res.get("component") or []:
                if code_of(comp.get("code"), self.m.url(sc.component.system)) == sc.component.code:
                    holder = comp
        try:
            value = self.scalar_value(sc, holder)
        except _Skip as skip:
            self.unmapped(ref, skip.reason, element=skip.element, fld=sc.field)
            return
        self.cand(sc.field, value, res, ref)

    def scalar_value(self, sc: Scalar, holder: JSON) -> Any:
        absent = holder.get("dataAbsentReason")
        if sc.value == "quantity":
            q = holder.get("valueQuantity")
            if not isinstance(q, dict) or q.get("value") is None:
                raise _Skip(self._no_value(absent, "valueQuantity"), "valueQuantity")
            unit = q.get("code") if q.get("system") == self.m.url("ucum") else q.get("unit")
            unit = unit if unit is not None else q.get("unit")
            clash = self.unit_clash(q)
            if clash is not None:
                raise _Skip(clash, "valueQuantity.unit")
            if unit not in sc.units:
                raise _Skip(
                    f"unit {unit!r} is not accepted for {sc.field}; allowed UCUM units: "
                    + ", ".join(sc.units),
                    "valueQuantity.unit",
                )
            if q.get("comparator"):
                raise _Skip(
                    f"value has comparator {q['comparator']!r}: an exact value is needed",
                    "valueQuantity.comparator",
                )
            factor = sc.units[unit]
            v = float(q["value"]) if factor == 1 else round(float(q["value"]) * factor, 6)
            if sc.integer:
                if v != int(v):
                    raise _Skip(f"{sc.field} needs a whole number, got {v:g}", "valueQuantity")
                return int(v)
            return v
        if sc.value == "integer":
            if "valueInteger" in holder:
                return holder["valueInteger"]
            raise _Skip(self._no_value(absent, "valueInteger"), "value")
        if sc.value == "boolean":
            if "valueBoolean" in holder:
                return holder["valueBoolean"]
            raise _Skip(self._no_value(absent, "valueBoolean"), "value")
        value = read_value(
            self.m,
            {k: v for k, v in holder.items() if k in ("valueCodeableConcept", "valueString")},
        )
        if value is None:
            raise _Skip(self._no_value(absent, "a nenguide case-value code"), "value")
        return value

    @staticmethod
    def _no_value(absent: Any, wanted: str = "a value") -> str:
        if absent:
            return f"no value (dataAbsentReason {describe(absent)}): stays unknown"
        return f"no usable value: expected {wanted}"

    def component_map(self, fld: str, res: JSON, ref: str) -> None:
        cm = self.cmaps[fld]
        if cm.value == "set":
            members = sorted(
                str(self.value_code(c.get("code")))
                for c in res.get("component") or []
                if c.get("valueBoolean") is True and self.value_code(c.get("code"))
            )
            self.cand(fld, members, res, ref)
            return
        for comp in res.get("component") or []:
            key = self.value_code(comp.get("code"))
            value = read_value(self.m, comp)
            if key is None or value is None:
                self.unmapped(
                    ref,
                    "component without a nenguide code or value",
                    element="component",
                    code=describe(comp.get("code")),
                    fld=fld,
                )
                continue
            self.cand(f"{fld}.{key}", value, res, ref)

    def components(self, fld: str, res: JSON, ref: str, lists: set[str]) -> JSON:
        out: JSON = {}
        prefix = fld + "."
        for comp in res.get("component") or []:
            code = self.local_field(comp.get("code")) or ""
            value = read_value(self.m, comp)
            if not code.startswith(prefix) or value is None:
                self.unmapped(
                    ref,
                    "component not mapped",
                    element="component",
                    code=describe(comp.get("code")),
                    fld=fld,
                )
                continue
            name = code[len(prefix) :]
            if name in lists:
                out.setdefault(name, []).append(value)
            else:
                out[name] = value
        return out

    def object(self, fld: str, res: JSON, ref: str) -> None:
        item = self.components(fld, res, ref, set())
        if self.objs[fld].many:
            self.s.objects.setdefault(fld, []).append(item)
        else:
            self.s.objects.setdefault(fld, [])
            for name, value in item.items():
                self.cand(f"{fld}.{name}", value, res, ref)

    def unit_clash(self, q: JSON) -> str | None:
        """Why a Quantity's UCUM ``code`` and its human ``unit`` cannot both be right (``3.4``
        with unit ``cm`` and code ``mm``: one of them is wrong by a factor of ten, and which
        is unknown), or None. Only two readable units that differ in size count: a ``unit``
        that is a display text (``milligram per deciliter``) is not compared."""
        code, unit = q.get("code"), q.get("unit")
        if q.get("system") != self.m.url("ucum") or not code or not unit or code == unit:
            return None
        a, b = parse_unit(str(unit)), parse_unit(str(code))
        if a is None or b is None or a.kind != "quantity" or b.kind != "quantity":
            return None
        try:
            ratio = float((a.quantity / b.quantity).to("dimensionless").magnitude)
        except pint.DimensionalityError:  # units of different dimensions
            ratio = float("nan")
        if abs(ratio - 1) <= 1e-9:
            return None
        return (
            f"the unit {unit!r} and the UCUM code {code!r} disagree: which is meant is unknown, "
            "so the value is not read"
        )

    def lab(self, analyte: str, res: JSON, ref: str) -> None:
        m = self.m
        q = res.get("valueQuantity")
        if not isinstance(q, dict) or q.get("value") is None:
            raise _Skip(self._no_value(res.get("dataAbsentReason"), "valueQuantity"), "value")
        unit = (
            q.get("code") if q.get("system") == m.url("ucum") and q.get("code") else q.get("unit")
        )
        if not unit:
            raise _Skip(f"{analyte}: the result has no unit", "valueQuantity.unit")
        clash = self.unit_clash(q)
        if clash is not None:
            raise _Skip(f"{analyte}: {clash}", "valueQuantity.unit")
        comparator = q.get("comparator")
        if comparator is not None and comparator not in ("<", "<=", ">", ">="):
            raise _Skip(
                f"{analyte}: value has comparator {comparator!r}; allowed: <, <=, >, >=",
                "valueQuantity.comparator",
            )
        try:
            self.catalogue.convert(analyte, float(q["value"]), str(unit), "lab")
        except LabInputError as exc:
            raise _Skip(
                f"{analyte}: {exc.message}; allowed: {exc.allowed}", "valueQuantity"
            ) from None
        lab: JSON = {"analyte": analyte, "value": q["value"], "unit": unit}
        if comparator is not None:  # a censored result (">1000"): clinical.labs[].comparator
            lab["comparator"] = comparator
        loinc = code_of(res.get("code"), m.url("loinc"))
        if loinc:
            lab["loinc"] = loinc
        for rng in res.get("referenceRange") or []:
            for end in ("low", "high"):
                b = rng.get(end)
                if isinstance(b, dict) and b.get("value") is not None:
                    b_unit = b.get("code") or b.get("unit")
                    if b_unit not in (None, unit):
                        self.unmapped(
                            ref,
                            f"reference {end} is in {b_unit!r}, not the result's "
                            f"unit {unit!r}: not read",
                            element=f"referenceRange.{end}",
                        )
                        continue
                    lab[f"reference_{end}"] = b["value"]
        d = when(res)
        if d is not None:
            lab["date"] = d.isoformat()
        context = self.components("clinical.labs.context", res, ref, set(m.lab_context_lists))
        if context:
            lab["context"] = context
        if any(lab == seen for seen, _ in self.s.labs):
            first = next(r for seen, r in self.s.labs if seen == lab)
            self.s.notes.append(
                Note(
                    kind="duplicate",
                    field="clinical.labs",
                    message=f"{analyte}: identical result given twice; read once",
                    resources=[first, ref],
                )
            )
            return
        self.s.labs.append((lab, ref))

    def germline(self, res: JSON, ref: str) -> None:
        m, g = self.m, self.m.germline
        gene = significance = None
        for comp in res.get("component") or []:
            ccode = code_of(comp.get("code"), m.url("loinc"))
            cc = comp.get("valueCodeableConcept") or {}
            if ccode == g.gene_component.code:
                gene = self.hgnc.get(code_of(cc, m.url("hgnc")) or "")
                if gene is None:
                    names = [c.get("display") for c in cc.get("coding") or []] + [cc.get("text")]
                    gene = next((n for n in names if n in g.genes), None)
            elif ccode == g.significance_component.code:
                answer = code_of(cc, m.url("loinc"))
                significance = next(
                    (k for k, s in g.significance.items() if s.code == answer), None
                )
                if significance is None:
                    raise _Skip(
                        f"clinical significance not mapped: {describe(cc)} (benign and "
                        "likely benign variants are not hereditary-syndrome findings)",
                        "component",
                    )
        if gene is None:
            raise _Skip("gene studied is missing or not one of " + ", ".join(g.genes), "component")
        answer = code_of(res.get("valueCodeableConcept"), m.url("loinc"))
        if answer == g.absent.code:
            result = "negative"
        elif answer == g.present.code and significance is not None:
            result = significance
        else:
            raise _Skip(
                "variant presence (LA9633-4/LA9634-2) with its clinical significance is needed",
                "valueCodeableConcept",
            )
        self.s.germline.append({"gene": gene, "result": result})

    # ------------------------------------------------------------------ other resources

    def therapy_code(self, cc: Any) -> str:
        local = code_of(cc, self.m.url("therapy"))
        if local in self.m.therapies:
            return str(local)
        atc = self.atc.get(code_of(cc, self.m.url("atc")) or "")
        if atc is not None:
            return atc
        raise _Skip(
            "therapy code not mapped (single agents by ATC; regimens need nenguide's "
            f"therapy code): {describe(cc)}",
            "code",
        )

    def therapy(self, res: JSON, code: Any, period: Any, ref: str) -> None:
        item: JSON = {"therapy": self.therapy_code(code)}
        if isinstance(period, dict):
            for end in ("start", "end"):
                if isinstance(period.get(end), str):
                    item[end] = period[end][:10]
        for name in ("line", "progressed", "months_to_progression"):
            v = extension_value(res, self.m.ext(f"prior-therapy-{name}"))
            if v is not None:
                item[name] = v.get("value") if isinstance(v, dict) else v
        self.s.therapies.append(item)

    def r_MedicationStatement(self, res: JSON, ref: str) -> None:
        if res.get("status") in ("not-taken", "entered-in-error", "intended"):
            raise _Skip(f"status '{res.get('status')}': not therapy given", "status")
        if "medicationCodeableConcept" not in res:
            raise _Skip(
                "medication given by reference: include the medication's code", "medication"
            )
        period = res.get("effectivePeriod") or {"start": res.get("effectiveDateTime")}
        self.therapy(res, res["medicationCodeableConcept"], period, ref)

    r_MedicationAdministration = r_MedicationStatement

    def r_Procedure(self, res: JSON, ref: str) -> None:
        code = res.get("code")
        if self.local_field(code) == "clinical.resection":
            item: JSON = {"performed": res.get("status") != "not-done"}
            if res.get("status") not in ("completed", "not-done"):
                raise _Skip(
                    f"resection with status '{res.get('status')}': only completed or "
                    "not-done are read",
                    "status",
                )
            if isinstance(code, dict) and code.get("text"):
                item["procedure"] = code["text"]
            if res.get("performedDateTime"):
                item["date"] = str(res["performedDateTime"])[:10]
            margin = self.value_code(res.get("outcome"))
            if margin:
                item["margin"] = margin
            endo = extension_value(res, self.m.ext("resection-endoscopic"))
            if endo is not None:
                item["endoscopic"] = endo
            self.cand("clinical.resection", item, res, ref)
            return
        if res.get("status") in ("not-done", "entered-in-error", "preparation"):
            raise _Skip(f"status '{res.get('status')}': not therapy given", "status")
        period = res.get("performedPeriod") or {"start": res.get("performedDateTime")}
        self.therapy(res, code, period, ref)

    def r_FamilyMemberHistory(self, res: JSON, ref: str) -> None:
        m = self.m
        if res.get("status") == "entered-in-error":
            raise _Skip("status entered-in-error", "status")
        rel = res.get("relationship")
        relation = self.value_code(rel)
        if relation not in m.family_relations:
            relation = self.relation.get(code_of(rel, m.url("v3role")) or "")
        if relation is None:
            raise _Skip(
                f"relationship not mapped to first/second degree: {describe(rel)}", "relationship"
            )
        member: JSON = {"relation": relation}
        findings = []
        for cond in res.get("condition") or []:
            code = self.value_code(cond.get("code"))
            if code is None:
                self.unmapped(
                    ref,
                    "family condition not mapped",
                    element="condition.code",
                    code=describe(cond.get("code")),
                    fld="clinical.family_history",
                )
            else:
                findings.append(code)
        if findings:
            member["findings"] = findings
        has_nen = extension_value(res, m.ext("family-has-nen"))
        if has_nen is not None:
            member["has_nen"] = has_nen
        gene = extension_value(res, m.ext("family-pathogenic-variant-gene"))
        if gene is not None:
            member["pathogenic_variant_gene"] = gene
        self.s.family.append(member)

    def r_List(self, res: JSON, ref: str) -> None:
        fld = self.local_field(res.get("code"))
        empty = describe(res.get("emptyReason"))
        if fld in ("clinical.prior_therapies", "clinical.family_history") and "nilknown" in empty:
            self.s.nil.add(fld)
            return
        raise _Skip(
            "only nenguide 'nil known' lists of prior therapy or family history are read", "code"
        )
