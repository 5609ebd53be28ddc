"""What the assessment page and the printed report show: the assessment contract turned into
readable items in one language, each with its "why" (rule, input values, thresholds, sources).

Nothing clinical is computed here; codes are looked up in the text catalogues, and an
identifier with no text stays visibly a code (``<code>``), never passed off as prose.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup, escape

from nenguide.engine.kb import Knowledge
from nenguide.report.texts import Texts

_IDENT = re.compile(r"(?<![\w.-])[a-z][a-z0-9]*(?:_[a-z0-9]+)*(?![\w.-])")
_RULE_PREFIX = re.compile(r"^[A-Z0-9_.]+: ")


@dataclass
class Why:
    step: str
    rule_ids: list[str]
    decided: bool
    explanation: str | None
    conditions: list[Markup]
    inputs: list[tuple[Markup, Markup]]
    result: Markup
    sources: list[str]


@dataclass
class Item:
    title: str
    body: list[str] = field(default_factory=list)
    status: str = "DETERMINED"
    why: list[Why] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


#: fact-name prefixes of the fact layer: ``hx_renal_failure`` is ``clinical.history.renal_failure``
_FACT_PREFIXES = (("hx_", "clinical.history."), ("sym_", "clinical.symptoms."))


class Labels:
    """Trace names and values in one language: field and fact names by their labels, choice
    codes by their texts, booleans as yes / no; an identifier with no text stays visibly code.
    Shared by the pages, the printed report and the text report (``plain``)."""

    def __init__(self, tx: Texts):
        self.tx = tx

    def fact_label(self, name: str) -> str | None:
        """The label of a fact or field name in the page language, or None."""
        table = self.tx.catalog.texts.get(self.tx.lang, {})
        own = table.get(f"field.{name}")
        if own:
            return own
        for prefix, path in _FACT_PREFIXES:
            if name.startswith(prefix):
                return table.get(f"field.{path}{name[len(prefix) :]}")
        # a syndrome's own flag (``insulinoma``, ``ectopic_acth``) reads as the syndrome
        return table.get(f"syndrome.{name}")

    def value(self, v: Any) -> Markup:
        """A trace value in the page language; a code with no text stays visibly code."""
        if isinstance(v, dict) and "one_of" in v:
            shown = Markup("、" if self.tx.lang == "zh-CN" else ", ").join(
                self.value(x) for x in v["one_of"]
            )
            return Markup(escape(self.tx.t("case.one_of", values="\0"))).replace("\0", shown)
        if isinstance(v, dict):
            return Markup("; ").join(
                Markup("{}: {}").format(self.label(k), self.value(x)) for k, x in v.items()
            )
        if isinstance(v, (list, tuple)):
            return Markup(", ").join(self.value(x) for x in v) if v else Markup("—")
        if isinstance(v, bool):
            return Markup(escape(self.tx.t("case.yes" if v else "case.no")))
        if isinstance(v, float):
            return Markup(escape(f"{v:g}"))
        if v is None:
            return Markup("—")
        s = str(v)
        if re.fullmatch(r"[a-z][a-z0-9_]*", s):
            return self.code(s)
        return Markup(escape(s))

    def code(self, s: str) -> Markup:
        shown = self.tx.value(s)
        if shown != s and not (self.tx.lang != "en" and shown == s):
            return Markup(escape(shown))
        if self.tx.lang == "en":
            return Markup(escape(s.replace("_", " ")))
        return Markup("<code>{}</code>").format(s)

    def label(self, key: str) -> Markup:
        """Label of a trace input (``available.everolimus`` -> "Available: Everolimus")."""
        if key.startswith("available."):
            return Markup("{}: {}").format(
                self.tx.t("site.available"), self.code(key.split(".", 1)[1])
            )
        own = self.fact_label(key)
        if own:
            return Markup(escape(own))
        shown = self.tx.field(key)
        if self.tx.lang != "en" and re.fullmatch(r"[A-Za-z0-9 ()-]+", shown):
            return Markup("<code>{}</code>").format(key)
        return Markup(escape(shown))

    def prose(self, text: Any) -> Markup:
        """An engine text: snake_case codes inside it read as texts, or are marked as code;
        in Chinese, a one-word choice code with a text (``pancreas``, ``surgery``) reads as
        that text too."""
        s = str(text)
        out: list[str] = []
        pos = 0
        for m in re.finditer(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)*\b", s):
            word = m.group(0)
            if "_" not in word:
                own = self.tx.value_label(word) if self.tx.lang != "en" else None
                if own is None:
                    continue
                shown = Markup(escape(own))
            else:
                shown = self.code(word)
            out.append(str(escape(s[pos : m.start()])))
            out.append(str(shown))
            pos = m.end()
        out.append(str(escape(s[pos:])))
        return Markup("".join(out))

    def localise(self, text: str) -> Markup:
        """A rule condition with field names and values in the page language; identifiers
        without a text are marked as code."""
        text = _RULE_PREFIX.sub("", text)
        out: list[str] = []
        pos = 0
        for m in _IDENT.finditer(text):
            out.append(str(escape(text[pos : m.start()])))
            tok = m.group(0)
            shown = self._token(tok)
            out.append(str(escape(shown)) if shown else f"<code>{escape(tok)}</code>")
            pos = m.end()
        out.append(str(escape(text[pos:])))
        joined = "".join(out).replace(" &amp; ", escape(self.tx.t("assess.and")))
        return Markup(joined)

    def _token(self, tok: str) -> str | None:
        if tok in ("true", "false"):
            return self.tx.t("case.yes" if tok == "true" else "case.no")
        if tok == "always":  # a table's catch-all row
            return self.tx.t("assess.always")
        hit = self.fact_label(tok)
        if hit:
            return hit
        shown = self.tx.value(tok)
        if shown != tok and not (self.tx.lang != "en" and shown == tok):
            return shown
        if self.tx.lang == "en":
            return tok.replace("_", " ")
        return None

    @staticmethod
    def plain(m: Markup) -> str:
        """Markup as plain text (for the terminal report)."""
        return str(m.striptags())


class AssessmentView(Labels):
    """Display model of one assessment (``a`` is the contract as a dict)."""

    def __init__(self, a: dict[str, Any], tx: Texts, kb: Knowledge):
        super().__init__(tx)
        self.a = a
        self.kb = kb

    def source(self, sid: str) -> str:
        c = self.kb.bibliography.get(sid)
        if c is None:
            return sid
        return f"{c.citation}" + (f" ({c.note})" if c.note else "")

    def why(self, e: dict[str, Any]) -> Why:
        expl = e["explanations"][0] if e.get("explanations") else None
        return Why(
            step=e["step"],
            rule_ids=list(e.get("rule_ids") or []),
            decided=bool(e.get("decided")),
            explanation=expl if self.tx.lang == "en" else None,
            conditions=[self.localise(c) for c in e.get("conditions") or []],
            inputs=[(self.label(k), self.value(v)) for k, v in (e.get("inputs") or {}).items()],
            result=self.value(e.get("result")),
            sources=[self.source(s) for s in e.get("sources") or []],
        )

    def trace_for_step(self, step: str) -> list[Why]:
        return [self.why(e) for e in self.a["trace"] if e["step"] == step]

    def trace_for_rule(self, rule_id: str | None, extra_steps: tuple[str, ...] = ()) -> list[Why]:
        if not rule_id:
            return []
        return [self.why(e) for e in self.a["trace"] if rule_id in (e.get("rule_ids") or [])]

    # --------------------------------------------------------------- blocks
    def stamp(self) -> dict[str, Any]:
        g = self.a["guideline"]
        return {
            "title": self.tx.kb(f"guideline_title.{g['id']}"),
            "version": g["version"],
            "valid_until": self.tx.date(g["valid_until"]),
            "past": bool(g.get("past_valid_until")),
            "engine": self.a["engine_version"],
            "as_of": self.tx.date(self.a["as_of"]),
            "as_of_iso": self.a["as_of"],
            "hash": g.get("content_hash", ""),
        }

    def open_questions(self) -> list[dict[str, Any]]:
        out = []
        for i in self.a["issues"]:
            if i["kind"] not in ("insufficient_data", "conflict"):
                continue
            out.append(
                {
                    "kind": i["kind"],
                    "message": self.prose(self.tx.issue_message(i)),
                    "fields": [(f, self.tx.field(f)) for f in i.get("fields") or []],
                    "step": i["step"],
                }
            )
        return out

    def other_issues(self) -> list[dict[str, Any]]:
        return [
            {**i, "message": self.tx.issue_message(i)}
            for i in self.a["issues"]
            if i["kind"] in ("warning", "info")
        ]

    def classification(self) -> Item:
        c = self.a["classification"]
        title = self.tx.kb(f"category.{c['category']}") if c.get("category") else ""
        if c.get("grade"):
            title += " " + self.tx.kb("grade." + c["grade"])
        if c.get("nec_subtype"):
            title += ", " + self.tx.kb("nec_subtype." + c["nec_subtype"])
        body = []
        if c.get("system"):
            body.append(self.tx.kb(f"system.{c['system']}"))
        if c.get("grade_by_ki67") or c.get("grade_by_mitoses"):
            body.append(
                f"{self.tx.kb('label.grade_by_ki67')}: {c.get('grade_by_ki67') or '—'} · "
                f"{self.tx.kb('label.grade_by_mitoses')}: {c.get('grade_by_mitoses') or '—'}"
            )
        for comp in c.get("components") or []:
            cat = (
                self.tx.kb(f"category.{comp['category']}")
                if comp.get("category")
                else (self.tx.kb(f"status.{comp['status']}"))
            )
            body.append(f"{self.tx.value(comp['kind'])} {comp['percent']:g}%: {cat}")
        return Item(title or "", body, c["status"], self.trace_for_step("classification"))

    def stage(self) -> Item:
        s = self.a["stage"]
        body: list[str] = []
        chips: list[tuple[str, str, bool]] = []
        title = ""
        if s.get("system"):
            pre = s.get("prefix") or ""
            for k in ("t", "n", "m"):
                v = s.get(k)
                shown = f"{pre if k != 'm' else ''}{v}" if v else f"{k.upper()}?"
                if k == "t" and v and s.get("t_suffix"):
                    shown += s["t_suffix"]
                chips.append((k.upper(), shown, bool(v)))
            group = s.get("group")
            title = (
                (f"{group}期" if self.tx.lang == "zh-CN" else f"Stage {group}")
                if group
                else self.tx.kb("label.not_determined")
            )
            chips.append(("", title, bool(group)))
            body.append(self.tx.kb(f"system.{s['system']}"))
            for k, vals in (s.get("possible") or {}).items():
                body.append(f"{k.upper()}: " + self.tx.t("assess.possible", values=", ".join(vals)))
        elif s.get("reason"):
            title = self.tx.kb(f"not_staged.{s['reason']}")
        else:
            title = self.tx.kb("label.not_determined")
        return Item(title, body, s["status"], self.trace_for_step("stage"), {"chips": chips})

    def liver(self) -> Item:
        lv = self.a["liver_metastasis"]
        if lv.get("type"):
            title = self.tx.kb(f"liver_type.{lv['type']}")
        elif lv.get("present") and lv["status"] == "NOT_APPLICABLE":
            title = self.tx.kb("label.liver_present_net_only")
        else:
            # never "none": not applicable (e.g. NEC) or not determined, said as such
            title = self.tx.kb(f"status.{lv['status']}")
        return Item(title, [], lv["status"], self.trace_for_step("liver_metastasis"))

    def syndromes(self) -> list[Item]:
        out = []
        for s in self.a.get("functional_syndromes") or []:
            body = []
            for key, items, prefix in (
                ("label.criteria_met", s.get("criteria_met"), "criterion"),
                ("label.criteria_unmet", s.get("criteria_unmet"), "criterion"),
                ("label.next_tests", s.get("next_tests"), "test"),
                ("label.caveats", s.get("caveats"), "caveat"),
            ):
                if items:
                    sep = "；" if self.tx.lang == "zh-CN" else "; "
                    shown = sep.join(self.tx.kb_or(f"{prefix}.{i}", i) for i in items)
                    body.append(f"{self.tx.kb(key)}: {shown}")
            name = self.tx.kb_or(f"syndrome.{s['syndrome']}", s["syndrome"])
            out.append(
                Item(
                    name,
                    body,
                    s.get("status", ""),
                    [
                        self.why(e)
                        for e in self.a["trace"]
                        if e["step"] == "functional_syndromes"
                        and s["syndrome"] in str(e.get("result"))
                    ],
                    {"status_text": self.tx.kb(f"syndrome_status.{s['status']}")},
                )
            )
        return out

    def workup(self) -> list[Item]:
        return [
            Item(
                w["text"],
                [w["reason"]],
                "RECOMMENDED",
                self.trace_for_rule(w.get("rule_id")),
                {"rule_id": w.get("rule_id"), "sources": [self.source(x) for x in w["sources"]]},
            )
            for w in self.a.get("workup") or []
        ]

    def setting(self) -> str | None:
        table = self.kb.pathway.table("treatment", "setting")  # the package's own id
        for e in self.a["trace"]:
            if e["step"] == "treatment" and e.get("table") == table:
                return str(e.get("result"))
        return None

    def site_used(self) -> list[Why]:
        return [
            self.why(e) for e in self.a["trace"] if e["step"] == "treatment" and not e.get("table")
        ]

    def treatment(self) -> dict[str, Any]:
        """Options grouped by intent under the setting; conditional ones marked."""
        groups: dict[str, list[Item]] = {}
        unconfirmed = False
        for o in self.a.get("treatment") or []:
            confirmed = o.get("level") and o.get("level_status") == "confirmed"
            unconfirmed = unconfirmed or not confirmed
            level = (
                (f"{o['level']}级推荐" if self.tx.lang == "zh-CN" else str(o["level"]))
                if confirmed
                else self.tx.t("assess.level_unconfirmed")
            )
            evidence = o.get("evidence") or "—"
            if o.get("available") is False:
                avail = self.tx.t("assess.unavailable")
                if o.get("alternative"):
                    avail += " → " + self.tx.t(
                        "assess.alternative", alt=self.option_text(o["alternative"])
                    )
            elif o.get("available") is None:
                avail = self.tx.t("assess.availability_unknown")
            else:
                avail = ""
            conditional = o.get("status") == "conditional"
            # the condition named by the contract, else the option's caveats ("If …")
            cond_on = (
                "; ".join(r["condition"] for r in o.get("requires") or [])
                or o.get("conditional_on")
                or o.get("condition")
                or o.get("needs")
            )
            if conditional and not cond_on and o.get("caveats"):
                cond_on = "; ".join(o["caveats"])
            item = Item(
                o["text"],
                [],
                "conditional" if conditional else "RECOMMENDED",
                self.trace_for_rule(o.get("rule_id")),
                {
                    "code": o["code"],
                    "category": self.tx.value(o["category"]),
                    "level": level,
                    "evidence": evidence,
                    "availability": avail,
                    "because": o.get("because") or [],
                    "caveats": o.get("caveats") or [],
                    "conditional": conditional,
                    "conditional_on": self.value(cond_on) if cond_on else None,
                    "rule_id": o.get("rule_id"),
                    "sources": [self.source(x) for x in o.get("sources") or []],
                },
            )
            groups.setdefault(o.get("intent") or "other", []).append(item)
        held = []
        for i in self.a["issues"]:
            if i["code"] == "TX_NEEDS_DATA":
                held.append(
                    {
                        "message": self.prose(self.tx.issue_message(i)),
                        "options": [
                            self.option_text(x) for x in (i.get("details") or {}).get("options", [])
                        ],
                        "fields": [(f, self.tx.field(f)) for f in i.get("fields") or []],
                    }
                )
        setting = self.setting()
        mdt = self.a.get("mdt_discussion")
        return {
            "setting": self.tx.value(setting if setting != "unknown" else "setting_unknown")
            if setting
            else None,
            "groups": [
                (self.tx.t(f"intent.{k}") if self.tx.has(f"intent.{k}") else self.tx.value(k), v)
                for k, v in groups.items()
            ],
            "level_note": unconfirmed,
            "held": held,
            "mdt": None
            if mdt is None
            else {
                "required": mdt["required"],
                "reasons": [self.mdt_reason(r) for r in mdt["reasons"]],
            },
            "site": self.site_used(),
        }

    def option_text(self, code_or_text: str) -> str:
        for o in (self.kb.documents.get("options.yaml") or {}).get("options", []):
            if o.get("code") == code_or_text or o.get("text", {}).get("en") == code_or_text:
                return str(o["text"].get(self.tx.lang) or o["text"]["en"])
        return code_or_text

    def mdt_reason(self, code: str) -> str:
        for key in (f"treatment.mdt.{code}", f"mdt_reason.{code}"):
            hit = self.kb.catalog.texts.get(self.tx.lang, {}).get(key)
            if hit:
                return hit
        return self.tx.kb_or(f"treatment.mdt.{code}", code)

    def follow_up(self) -> dict[str, Any] | None:
        f = self.a.get("follow_up")
        if f is None:
            return None
        return {
            "status": f["status"],
            "lifelong": f.get("lifelong"),
            "schedule": f.get("schedule"),
            "visits": [
                {
                    "due": v["due"],
                    "due_text": self.tx.date(v["due"]),
                    "exams": [self.tx.kb_or(f"exam.{x}", self.tx.value(x)) for x in v["exams"]],
                }
                for v in f.get("visits") or []
            ],
            "rule_id": f.get("rule_id"),
            "sources": [self.source(x) for x in f.get("sources") or []],
            "why": self.trace_for_step("follow_up"),
        }

    def hereditary(self) -> dict[str, Any] | None:
        h = self.a.get("hereditary")
        if h is None:
            return None
        rec = h.get("testing_recommended")
        key = (
            "assess.testing_recommended"
            if rec
            else "assess.testing_not_recommended"
            if rec is False
            else "assess.testing_unknown"
        )
        return {
            "title": self.tx.t(key),
            "status": h.get("status"),
            "syndromes": [
                self.tx.kb_or(f"hereditary.syndrome.{s}", s) for s in h.get("syndromes") or []
            ],
            "genes": h.get("genes") or [],
            "because": [
                self.tx.kb_or(f"hereditary.rule.{r}", b)
                for r, b in zip(h.get("rule_ids") or [], h.get("because") or [], strict=False)
            ]
            or list(h.get("because") or []),
            "surveillance": [
                self.tx.kb_or(f"surveillance.{s}", s) for s in h.get("surveillance") or []
            ],
            "why": self.trace_for_step("hereditary"),
        }
