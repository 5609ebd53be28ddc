"""Import entry point: parse the Bundle, read each resource, resolve duplicates, build the case."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from pydantic import ValidationError

from nenguide.errors import CaseInputError, parse_case
from nenguide.interop.fhir.codes import JSON
from nenguide.interop.fhir.read import _Cand, _Reader, _set, _State
from nenguide.interop.fhir.result import ImportResult, Note, PatientInfo, Unmapped
from nenguide.limits import MAX_DEPTH, unique_keys
from nenguide.units import AnalyteCatalogue

_PRIMARY_HINT = (
    " (the Bundle needs an mCODE PrimaryCancerCondition whose bodySite is a mapped SNOMED CT "
    "site or a nenguide primary-site code)"
)
_HINTS = {"tumour": _PRIMARY_HINT, "tumour.primary_site": _PRIMARY_HINT}


class BundleError(ValueError):
    """The input is not a FHIR R4 Bundle at all (nothing could be read)."""


def _ref(entry: JSON, res: JSON, n: int) -> str:
    url = entry.get("fullUrl")
    if isinstance(url, str) and url.startswith("urn:"):
        return url
    if res.get("resourceType") and res.get("id"):
        return f"{res['resourceType']}/{res['id']}"
    return str(url or f"entry {n}")


def _resolve(s: _State, fld: str, cands: list[_Cand]) -> Any:
    """The value of ``fld`` from its candidates (latest wins; undated disagreement = conflict)."""
    if len(cands) == 1:
        return cands[0].value
    refs = [c.ref for c in cands]
    if all(c.value == cands[0].value for c in cands):
        s.notes.append(
            Note(
                kind="duplicate",
                field=fld,
                resources=refs,
                message=f"{len(cands)} resources give the same value; read once",
            )
        )
        return cands[0].value
    if any(c.date is None for c in cands):
        s.notes.append(
            Note(
                kind="conflict",
                field=fld,
                resources=refs,
                message=(
                    "resources disagree and not all are dated, so the latest cannot be told: "
                    "the field stays unknown; values: "
                    + "; ".join(f"{c.ref} = {c.value!r}" for c in cands)
                ),
            )
        )
        return None
    latest = max(c.date for c in cands if c.date is not None)
    top = [c for c in cands if c.date == latest]
    if any(c.value != top[0].value for c in top):
        s.notes.append(
            Note(
                kind="conflict",
                field=fld,
                resources=refs,
                message=(
                    f"resources dated {latest} disagree: the field stays unknown; values: "
                    + "; ".join(f"{c.ref} = {c.value!r}" for c in top)
                ),
            )
        )
        return None
    older = [c for c in cands if c not in top]
    s.notes.append(
        Note(
            kind="duplicate",
            field=fld,
            resources=refs,
            message=(
                f"latest wins: {top[0].ref} ({latest}) = {top[0].value!r} used; older: "
                + "; ".join(f"{c.ref} ({c.date}) = {c.value!r}" for c in older)
            ),
        )
    )
    return top[0].value


def _build(r: _Reader, as_of: dt.date) -> JSON:
    s = r.s
    data: JSON = {}
    fields = dict(s.cands)
    for fld, cands in s.fallback.items():
        if fld not in fields:
            fields[fld] = cands
            continue
        direct = {c.value for c in fields[fld]}
        for c in cands:
            if c.value not in direct:
                s.notes.append(
                    Note(
                        kind="conflict",
                        field=fld,
                        resources=[c.ref],
                        message=(
                            f"the ICD-O-3 morphology of {c.ref} states {c.value!r}, the "
                            f"observation of {fld} states "
                            f"{' / '.join(sorted(map(str, direct)))}: the observation is used"
                        ),
                    )
                )
    for fld, cands in fields.items():
        value = _resolve(s, fld, cands)
        if value is not None:
            _set(data, fld, value)
    if "age_years" not in data.get("patient", {}) and s.birth_date is not None:
        age = (
            as_of.year
            - s.birth_date.year
            - ((as_of.month, as_of.day) < (s.birth_date.month, s.birth_date.day))
        )
        _set(data, "patient.age_years", age)
        s.notes.append(
            Note(
                kind="derived",
                field="patient.age_years",
                message=(f"age {age} derived from Patient.birthDate {s.birth_date} at {as_of}"),
            )
        )
    for fld, items in s.objects.items():
        if r.objs[fld].many:
            _set(data, fld, items)
        elif fld == "metastases.liver" and "liver" not in data.get("metastases", {}):
            _set(data, fld, {})
    mets = data.get("metastases", {})
    if s.liver_conditions and "liver" not in mets:
        _set(data, "metastases.liver", {})
    if s.extrahepatic:
        _set(data, "metastases.extrahepatic", s.extrahepatic)
    elif s.extrahepatic_none:
        _set(data, "metastases.extrahepatic", [])
    mets = data.get("metastases", {})
    stated = mets.get("status")
    found = bool(mets.get("liver") is not None or mets.get("extrahepatic"))
    if found and stated is None:
        _set(data, "metastases.status", "present")
        s.notes.append(
            Note(
                kind="derived",
                field="metastases.status",
                message=("metastases present: the Bundle has SecondaryCancerConditions"),
            )
        )
    elif found and stated == "none":
        s.notes.append(
            Note(
                kind="conflict",
                field="metastases.status",
                message=(
                    "status 'none' but SecondaryCancerConditions are present: both are passed "
                    "on and the assessment reports the conflict"
                ),
            )
        )
    elif mets and stated is None:
        _set(data, "metastases.status", "unknown")
    if s.labs:
        _set(data, "clinical.labs", [lab for lab, _ in s.labs])
    for fld, items in (
        ("clinical.prior_therapies", s.therapies),
        ("clinical.family_history", s.family),
    ):
        if items:
            _set(data, fld, items)
        elif fld in s.nil:
            _set(data, fld, [])
    if s.germline:
        _set(data, "clinical.germline", s.germline)
    return data


def _drop(data: JSON, path: str) -> bool:
    """Remove the value at ``path`` (a list item where the path has an index)."""
    parts = path.split(".")
    cur: Any = data
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(cur, list):
            if not part.isdigit() or int(part) >= len(cur):
                return False
            if last or not isinstance(cur[int(part)], (dict, list)):
                del cur[int(part)]
                return True
            nxt = cur[int(part)]
            if i == len(parts) - 2 and isinstance(nxt, dict) and parts[-1] not in nxt:
                del cur[int(part)]  # a required key of a list item is missing: drop the item
                return True
            cur = nxt
        elif isinstance(cur, dict):
            if part not in cur:
                return False
            if last:
                del cur[part]
                return True
            cur = cur[part]
        else:
            return False
    return False


def import_bundle(
    bundle: JSON | str | bytes,
    catalogue: AnalyteCatalogue | None = None,
    as_of: dt.date | None = None,
) -> ImportResult:
    """Map a FHIR R4 Bundle to a case; list everything that was not mapped, and why.

    ``catalogue``: the analyte catalogue (default: the default knowledge package's). ``as_of``:
    the date an age is derived at from ``Patient.birthDate`` (default: today). Raises
    :class:`BundleError` only when the input is not a Bundle at all.
    """
    from fhir.resources.R4B import get_fhir_model_class

    if isinstance(bundle, (str, bytes)):
        try:
            bundle = json.loads(bundle, object_pairs_hook=unique_keys)
        except RecursionError:
            raise BundleError(f"JSON nested deeper than {MAX_DEPTH} levels") from None
        except ValueError as exc:  # malformed, a key given twice, an integer too long
            raise BundleError(f"not JSON: {exc}") from None
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise BundleError("not a FHIR Bundle: 'resourceType' must be 'Bundle'")
    entries = bundle.get("entry") or []
    if not isinstance(entries, list):
        raise BundleError("Bundle.entry must be a list")
    if catalogue is None:
        from nenguide.knowledge import load

        catalogue = load().analytes
    assert catalogue is not None
    r = _Reader(catalogue)
    for n, entry in enumerate(entries):
        raw = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(raw, dict):
            r.unmapped(f"entry {n}", "entry has no resource")
            continue
        ref = _ref(entry, raw, n)
        try:
            model = get_fhir_model_class(str(raw.get("resourceType")))
        except (KeyError, ValueError, AttributeError):
            r.unmapped(ref, f"unknown FHIR R4 resource type {raw.get('resourceType')!r}")
            continue
        try:
            model.model_validate(raw)  # structure checked; the reader walks the JSON itself
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5]
            )
            r.unmapped(ref, f"not valid FHIR R4: {problems}")
            continue
        r.read(raw, ref)
    bundle_id = bundle.get("identifier")
    data = _build(r, as_of or dt.date.today())
    if isinstance(bundle_id, dict) and bundle_id.get("system") == r.m.ext("case-id"):
        data["case_id"] = bundle_id.get("value")
    case = None
    for _ in range(50):
        try:
            case = parse_case(data)
            break
        except CaseInputError as err:
            dropped = False
            for e in err.errors:
                if _drop(data, e.path):
                    dropped = True
                    r.s.unmapped.append(
                        Unmapped(
                            resource="(case)",
                            field=e.path,
                            reason=(
                                f"invalid value, left unknown: {e.message}"
                                + (f" (allowed: {e.allowed})" if e.allowed else "")
                            ),
                        )
                    )
            if not dropped:
                r.s.unmapped.extend(
                    Unmapped(
                        resource="(case)",
                        field=e.path,
                        reason="case cannot be built: "
                        f"{e.path}: {e.message}" + _HINTS.get(e.path, ""),
                    )
                    for e in err.errors
                )
                break
    return ImportResult(
        patient=PatientInfo(**r.s.patient),
        case=case,
        unmapped=r.s.unmapped,
        notes=r.s.notes,
        resources_read=len(entries),
    )
