"""The 422 of an invalid case is worded in the language of Accept-Language (issue 9), against
a real server; the envelope keeps its keys (plus ``lang``) and English stays the default."""

from __future__ import annotations

from apitest import Server

BAD = {"tumour": {"primary_site": "pancreass", "size_cm": -1}}
AS_OF = {"as_of": "2026-12-01"}


def test_invalid_case_errors_follow_accept_language(server: Server) -> None:
    with server.client("auditor") as c:
        zh = c.post(
            "/api/v1/assess", json=BAD, params=AS_OF, headers={"Accept-Language": "zh-CN,zh;q=0.9"}
        )
        en = c.post("/api/v1/assess", json=BAD, params=AS_OF)
    assert zh.status_code == en.status_code == 422
    assert zh.headers["content-language"] == "zh-CN"
    z, e = zh.json()["error"], en.json()["error"]
    assert set(z) == set(e) == {"code", "message", "fields", "details", "lang"}
    assert z["code"] == e["code"] == "invalid_case"
    assert (z["lang"], e["lang"]) == ("zh-CN", "en")
    assert (
        z["message"] == "病例中有2个字段无效" and e["message"] == "2 invalid field(s) in the case"
    )
    zf = {f["path"]: f for f in z["fields"]}
    ef = {f["path"]: f for f in e["fields"]}
    assert set(zf) == set(ef) == {"tumour.primary_site", "tumour.size_cm"}
    assert zf["tumour.size_cm"]["message"] == "肿瘤大小（cm）：请输入大于0的数字。"
    assert zf["tumour.size_cm"]["allowed"] == "大于0的数字"
    assert zf["tumour.size_cm"]["received"] == ef["tumour.size_cm"]["received"] == -1
    assert "pancreas（胰腺）" in zf["tumour.primary_site"]["allowed"]
    assert ef["tumour.size_cm"]["allowed"] == "a number greater than 0.0"
