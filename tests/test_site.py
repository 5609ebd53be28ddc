"""Site parameters (issue 3 item 7): package defaults, hospital overrides, availability with the
alternative shown, Krenning threshold, NF-pNET boundary and default branch, trace record."""

from __future__ import annotations

import copy
import datetime as dt
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import nenguide
from nenguide.engine.kb import Knowledge
from nenguide.engine.treatment_data import effective_site, site_defaults
from nenguide.errors import parse_case
from nenguide.model.site import Availability, SiteFileError, SiteParameters, load_site_file

AS_OF = dt.date(2026, 11, 23)

PNET_MET: dict[str, Any] = {
    "patient": {"ecog": 1},
    "tumour": {"primary_site": "pancreas", "size_cm": 3.0},
    "metastases": {"status": "present", "extrahepatic": [{"site": "bone"}]},
    "pathology": {"differentiation": "well", "ki67_percent": 5},
    "staging_basis": "clinical",
    "clinical": {
        "symptoms": {"flushing": False},
        "investigations": [
            {"kind": "sstr_pet", "positive": True, "krenning_score": 2,
             "all_lesions_sstr_positive": True}
        ],
        "prior_therapies": [],
    },
}  # fmt: skip


def later_line(case: dict[str, Any]) -> dict[str, Any]:
    """The case after progression on a prior systemic line (PRRT is a later line in pancreatic
    NET, issue 8 §3); the progressed therapy is not one PRRT's alternatives repeat."""
    out = copy.deepcopy(case)
    out["clinical"]["prior_therapies"] = [{"therapy": "streptozocin_based", "progressed": True}]
    return out


def nfpnet(size: float) -> dict[str, Any]:
    return {
        "tumour": {"primary_site": "pancreas", "size_cm": size, "extent": "confined_to_pancreas"},
        "regional_nodes": {"status": "negative"},
        "metastases": {"status": "none"},
        "pathology": {"differentiation": "well", "ki67_percent": 1},
        "clinical": {
            "symptoms": {"flushing": False, "hypoglycaemia_symptoms": False},
            "resection": {"performed": False},
        },
    }


def run(kb: Knowledge, case: dict[str, Any], site: SiteParameters | None = None) -> dict[str, Any]:
    return nenguide.assess(parse_case(case), kb, as_of=AS_OF, site=site).model_dump(mode="json")


def opt(out: dict[str, Any], code: str) -> dict[str, Any]:
    return next(o for o in out["treatment"] if o["code"] == code)


def codes(out: dict[str, Any]) -> list[str]:
    return [o["code"] for o in out["treatment"]]


def test_package_defaults(kb: Knowledge) -> None:
    d = site_defaults(kb)
    assert d.name == "csco-2021-default-china"
    assert d.availability("surufatinib") is True
    assert d.availability("lu177_dotatate") is None  # NMPA status not found: unknown
    assert d.prrt_krenning_min == 3
    assert d.nfpnet_boundary_cm == 2.0 and d.nfpnet_boundary_inclusive is True
    assert d.nfpnet_small_default == "surgery"
    assert effective_site(kb, SiteParameters()) == d.over(d)


def test_override_lays_over_defaults(kb: Knowledge) -> None:
    site = SiteParameters(
        name="Hospital X",
        items={"surufatinib": Availability(available=False)},
        prrt_krenning_min=2,
    )
    eff = effective_site(kb, site)
    assert eff.name == "Hospital X (over csco-2021-default-china)"
    assert eff.availability("surufatinib") is False
    assert eff.availability("everolimus") is True  # default kept
    assert eff.prrt_krenning_min == 2
    assert eff.nfpnet_boundary_cm == 2.0


def test_unavailable_option_is_shown_with_its_alternative(kb: Knowledge) -> None:
    site = SiteParameters(name="EU", items={"surufatinib": Availability(available=False)})
    out = run(kb, PNET_MET, site)
    s = opt(out, "SURUFATINIB")
    assert s["available"] is False
    assert s["alternative"] == "EVEROLIMUS"
    assert any("Not available at this site" in c for c in s["caveats"])
    assert opt(out, "EVEROLIMUS")["available"] is True
    assert opt(out, "EVEROLIMUS")["alternative"] is None


def test_unavailable_shorthand(kb: Knowledge) -> None:
    out = run(kb, PNET_MET, SiteParameters(unavailable=frozenset({"sunitinib"})))
    assert opt(out, "SUNITINIB")["available"] is False
    assert opt(out, "SUNITINIB")["alternative"] == "EVEROLIMUS"


def test_unknown_availability_is_a_caveat_not_a_guess(kb: Knowledge) -> None:
    site = SiteParameters(prrt_krenning_min=2)
    prrt = opt(run(kb, later_line(PNET_MET), site), "PRRT_LU177")
    assert prrt["available"] is True
    assert any("Availability at this site not confirmed" in c for c in prrt["caveats"])
    site = SiteParameters(
        prrt_krenning_min=2,
        items={
            "lu177_dotatate": Availability(available=True, reimbursed=False),
            "prrt_centre": Availability(available=True),
        },
    )
    prrt = opt(run(kb, later_line(PNET_MET), site), "PRRT_LU177")
    assert not any("Availability at this site not confirmed" in c for c in prrt["caveats"])
    assert any("Not reimbursed" in c for c in prrt["caveats"])


def test_krenning_threshold_is_a_site_parameter(kb: Knowledge) -> None:
    pnet = later_line(PNET_MET)
    assert "PRRT_LU177" not in codes(run(kb, pnet))  # Krenning 2 < default 3
    assert "PRRT_LU177" in codes(run(kb, pnet, SiteParameters(prrt_krenning_min=2)))
    case = copy.deepcopy(pnet)
    case["clinical"]["investigations"][0]["all_lesions_sstr_positive"] = False
    assert "PRRT_LU177" not in codes(run(kb, case, SiteParameters(prrt_krenning_min=2)))


def test_nfpnet_boundary_and_inclusiveness(kb: Knowledge) -> None:
    small = "CSCO2021.TX.PANCREAS.NF.SMALL"
    large = "CSCO2021.TX.PANCREAS.NF.LARGE"
    assert opt(run(kb, nfpnet(2.0)), "PANCREATIC_RESECTION_LND")["rule_id"] == small
    exclusive = SiteParameters(nfpnet_boundary_inclusive=False)
    out = run(kb, nfpnet(2.0), exclusive)
    assert opt(out, "PANCREATIC_RESECTION_LND")["rule_id"] == large
    assert "NFPNET_ACTIVE_SURVEILLANCE" not in codes(out)
    wider = SiteParameters(nfpnet_boundary_cm=3.0)
    assert opt(run(kb, nfpnet(2.5), wider), "PANCREATIC_RESECTION_LND")["rule_id"] == small


def test_nfpnet_default_branch_is_listed_first(kb: Knowledge) -> None:
    out = run(kb, nfpnet(1.2))
    assert codes(out)[:2] == ["PANCREATIC_RESECTION_LND", "NFPNET_ACTIVE_SURVEILLANCE"]
    out = run(kb, nfpnet(1.2), SiteParameters(nfpnet_small_default="surveillance"))
    assert codes(out)[:2] == ["NFPNET_ACTIVE_SURVEILLANCE", "PANCREATIC_RESECTION_LND"]
    assert any("default" in c for c in out["treatment"][0]["caveats"])
    assert out["mdt_discussion"]["required"] is True


def test_parameter_set_is_recorded_in_the_trace(kb: Knowledge) -> None:
    out = run(kb, PNET_MET, SiteParameters(name="Hospital X"))
    note = [t for t in out["trace"] if t["step"] == "treatment" and t["table"] is None][-1]
    assert note["result"]["site_parameters"] == "Hospital X (over csco-2021-default-china)"
    assert note["conditions"] == ["site parameters: Hospital X (over csco-2021-default-china)"]


def test_load_site_file(tmp_path: Path, kb: Knowledge) -> None:
    p = tmp_path / "site.yaml"
    p.write_text(
        "name: Hospital Y\n"
        "items:\n  surufatinib: {available: false, note: not approved}\n"
        "nfpnet_small_default: surveillance\n",
        encoding="utf-8",
    )
    site = load_site_file(p)
    assert site.availability("surufatinib") is False
    out = run(kb, PNET_MET, site)
    assert opt(out, "SURUFATINIB")["available"] is False


@pytest.mark.parametrize(
    "text, where",
    [
        ("items: {surufatinib: {available: maybe}}\n", "items.surufatinib.available"),
        ("prrt_krenning_min: 7\n", "prrt_krenning_min"),
        ("colour: blue\n", "colour"),
        ("- a list\n", "must be a mapping"),
    ],
)
def test_bad_site_file_names_the_problem(tmp_path: Path, text: str, where: str) -> None:
    p = tmp_path / "bad.yaml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(SiteFileError) as err:
        load_site_file(p)
    assert where in str(err.value) and str(p) in str(err.value)


def test_a_code_the_package_does_not_know_is_refused(kb: Knowledge, tmp_path: Path) -> None:
    """``unavailable: [surufatinb]`` (or the option code ``[SURUFATINIB]``) changed nothing,
    silently, and surufatinib stayed available (a probe, session 24): each unknown code is
    named, with what is allowed, and the command line refuses the file."""
    from nenguide.engine.treatment_data import site_code_problems

    assert site_code_problems(kb, None) == []
    assert site_code_problems(kb, site_defaults(kb)) == []
    good = SiteParameters(unavailable=frozenset({"surufatinib", "lu177_dotatate"}))
    assert site_code_problems(kb, good) == []
    bad = SiteParameters(
        unavailable=frozenset({"surufatinb", "SURUFATINIB"}),
        items={"bogus": Availability(available=False)},
    )
    problems = site_code_problems(kb, bad)
    assert [p.split(":")[0] for p in problems] == ["items.bogus", "unavailable", "unavailable"]
    assert (
        "SURUFATINIB" in problems[1] and "give the items it requires (surufatinib)" in problems[1]
    )
    assert "surufatinb" in problems[2] and "surufatinib" in problems[2]
    site = tmp_path / "site.yaml"
    site.write_text("unavailable: [surufatinb]\n")
    example = Path(nenguide.__file__).parent / "examples" / "pnet-g2-liver.yaml"
    r = subprocess.run(
        [sys.executable, "-m", "nenguide", "assess", str(example), "--site", str(site)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert r.returncode == 2 and "surufatinb" in r.stderr and "Traceback" not in r.stderr
