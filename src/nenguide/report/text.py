"""Human-readable assessment report for the terminal (Rich), in English or Simplified Chinese.

Everything shown comes from the assessment and the text catalogue; nothing is recomputed here.
"""

from __future__ import annotations

import re
from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from nenguide.engine.kb import Catalog
from nenguide.model.assessment import Assessment, IssueKind, Status
from nenguide.report.svg import describe_runs, group_visits
from nenguide.report.texts import Texts
from nenguide.report.view import Labels

_KIND_STYLE = {
    IssueKind.conflict: ("✖", "bold red"),
    IssueKind.insufficient_data: ("?", "bold yellow"),
    IssueKind.warning: ("!", "yellow"),
    IssueKind.info: ("·", "cyan"),
}
_STATUS_STYLE = {
    Status.DETERMINED: "green",
    Status.RECOMMENDED: "green",
    Status.NOT_APPLICABLE: "dim",
    Status.INSUFFICIENT_DATA: "yellow",
    Status.CONFLICT: "red",
}
_FACT = re.compile(
    r"\b([a-z][a-z0-9]*(?:_[a-z0-9]+)+|extent|necrosis|morphology|differentiation|category)\b"
)


class Report:
    def __init__(self, a: Assessment, catalog: Catalog):
        self.a = a
        self.cat = catalog
        self.lang = a.language
        self.ui = Texts(self.lang, catalog)

    def t(self, key: str, **kw: Any) -> str:
        return self.cat.text(self.lang, key, **kw)

    def status(self, s: Status) -> Text:
        return Text(self.t(f"status.{s.value}"), style=_STATUS_STYLE[s])

    def header(self) -> Text:
        g = self.a.guideline
        title = self.t(f"guideline_title.{g.id}")
        out = Text()
        out.append(f"{self.t('label.guideline')}: ", style="bold")
        out.append(f"{title} ({g.version}), {self.t('label.valid_until')} {g.valid_until}")
        if g.past_valid_until:
            out.append(f"  [{self.t('label.expired')}]", style="bold red")
        out.append(f"\n{self.t('label.engine')} {self.a.engine_version} · ")
        out.append(f"{self.t('label.as_of')} {self.a.as_of}")
        if self.a.case_id:
            out.append(f" · {self.t('label.case')} {self.a.case_id}")
        return out

    def summary(self) -> Table:
        tab = Table.grid(padding=(0, 2))
        tab.add_column(style="bold", no_wrap=True, overflow="fold")
        tab.add_column(overflow="fold")
        tab.add_column(no_wrap=True, overflow="fold")
        c = self.a.classification
        cls = Text()
        if c.category:
            cls.append(self.t(f"category.{c.category}"), style="bold")
            if c.grade:
                cls.append(f" {self.t(f'grade.{c.grade}')}", style="bold")
            if c.nec_subtype:
                cls.append(f", {self.t(f'nec_subtype.{c.nec_subtype}')}")
        else:
            cls.append(self.t("label.not_determined"), style="italic")
        if c.system:
            cls.append(f"\n{self.t(f'system.{c.system}')}", style="dim")
        if c.grade_by_ki67 or c.grade_by_mitoses:
            cls.append(
                f"\n{self.t('label.grade_by_ki67')}: {c.grade_by_ki67 or '—'} · "
                f"{self.t('label.grade_by_mitoses')}: {c.grade_by_mitoses or '—'}"
            )
        for comp in c.components:
            cls.append(f"\n  {comp.kind} {comp.percent:g} %: ")
            if comp.category:
                cls.append(self.t(f"category.{comp.category}"))
                if comp.grade:
                    cls.append(f" {comp.grade}")
            else:
                cls.append(self.t(f"status.{comp.status.value}"), style="dim")
        tab.add_row(self.t("label.classification"), cls, self.status(c.status))

        s = self.a.stage
        st = Text()
        if s.system:
            pre = s.prefix or ""
            tnm = " ".join(
                f"{pre if k != 'm' else ''}{v or k.upper() + '?'}"
                for k, v in (("t", s.t), ("n", s.n), ("m", s.m))
            )
            if s.t_suffix:
                tnm = tnm.replace(s.t or "T?", f"{s.t or 'T?'}{s.t_suffix}", 1)
            st.append(tnm, style="bold")
            st.append(" → ")
            st.append(
                f"{self.t('label.group')} {s.group}" if s.group else self.t("label.not_determined"),
                style="bold" if s.group else "italic",
            )
            st.append(f"\n{self.t(f'system.{s.system}')}", style="dim")
            for k, vals in s.possible.items():
                st.append(
                    f"\n{k.upper()}: {self.t('label.possible')} {', '.join(vals)}", style="dim"
                )
        elif s.reason:
            st.append(self.t(f"not_staged.{s.reason}"), style="italic")
        else:
            st.append(self.t("label.not_determined"), style="italic")
        tab.add_row(self.t("label.stage"), st, self.status(s.status))

        lv = self.a.liver_metastasis
        lt = Text(
            self.t(f"liver_type.{lv.type}")
            if lv.type
            else self.t("label.liver_present_net_only")
            if lv.present and lv.status is Status.NOT_APPLICABLE
            else self.t("label.none")
            if lv.status is Status.NOT_APPLICABLE and lv.present is False
            else self.t("label.not_determined")
        )
        tab.add_row(self.t("label.liver"), lt, self.status(lv.status))
        return tab

    def issues(self) -> Table | Text:
        if not self.a.issues:
            return Text(self.t("label.none"), style="dim")
        tab = Table.grid(padding=(0, 1))
        tab.add_column(no_wrap=True, overflow="fold")
        tab.add_column(overflow="fold")
        for i in self.a.issues:
            kind = IssueKind(i["kind"])
            mark, style = _KIND_STYLE[kind]
            body = Text()
            body.append(f"{self.t(f'kind.{kind.value}')}: ", style=style)
            body.append(self.ui.issue_message(i))
            if i["fields"]:
                # the fields by their labels, in the report's language (issue 9)
                shown = self.cat.field_list(self.lang, i["fields"])
                body.append(f"  [{shown}]", style="dim")
            tab.add_row(Text(mark, style=style), body)
        return tab

    def reasons(self) -> Table:
        tab = Table.grid(padding=(0, 1))
        tab.add_column(no_wrap=True, style="dim", overflow="fold")
        tab.add_column(overflow="fold")
        lab = Labels(self.ui)
        for e in self.a.trace:
            if not e["rule_ids"]:
                continue
            body = Text()
            if e["decided"]:
                body.append(e["rule_ids"][0], style="bold")
            else:
                # no single rule decided: say so and list the competing rules
                body.append(f"{self.ui.t('assess.rules_considered')}: ", style="yellow")
                body.append(", ".join(e["rule_ids"]), style="bold")
            if self.lang == "en" and e["explanations"]:
                body.append(f": {lab.plain(lab.prose(e['explanations'][0]))}")
            else:
                cond = e["conditions"][0] if e["conditions"] else ""
                body.append(f": {lab.plain(lab.localise(cond))}")
            read = {k: v for k, v in e["inputs"].items() if v is not None}
            if read:
                # names by their labels, values by their texts, in the report's language
                sep = "；" if self.lang == "zh-CN" else "; "
                shown = sep.join(
                    f"{lab.plain(lab.label(k))}={lab.plain(lab.value(v))}" for k, v in read.items()
                )
                body.append(f"\n  {self.t('label.inputs')}: {shown}", style="dim")
            if e["sources"]:
                body.append(
                    f"\n  {self.t('label.sources')}: {', '.join(e['sources'])}", style="dim"
                )
            tab.add_row(self.t(f"step.{e['step']}"), body)
        return tab

    def _localise(self, text: str) -> str:
        if self.lang == "en":
            return text

        def sub(m: re.Match[str]) -> str:
            return self.cat.texts.get(self.lang, {}).get(f"field.{m.group(1)}", m.group(1))

        return _FACT.sub(sub, text)

    def _join(self, items: list[str]) -> str:
        """Items as one line: "a; b" in English; in Chinese "a；b", a full stop ending an item
        being separator enough ("a。b")."""
        if self.lang != "zh-CN":
            return "; ".join(items)
        out = ""
        for n, item in enumerate(items):
            if n:
                out += "" if out.endswith(("。", "；")) else "；"
            out += item
        return out

    def _prose(self, text: str) -> str:
        """An engine text with the choice codes in it as texts (as on the pages)."""
        lab = Labels(self.ui)
        return lab.plain(lab.prose(text))

    def _mdt_reason(self, code: str) -> str:
        for key in (f"treatment.mdt.{code}", f"mdt_reason.{code}"):
            hit = self.cat.texts.get(self.lang, {}).get(key)
            if hit:
                return hit
        return self._code("treatment.mdt", code)

    def _code(self, prefix: str, code: str) -> str:
        """Text of a code when the catalogue has one, else the value itself (already a text)."""
        return self.cat.texts.get(self.lang, {}).get(f"{prefix}.{code}") or code

    def _section(self, label: str, body: Any) -> list[Any]:
        return [Text(""), Text(self.t(label), style="bold underline"), body]

    def syndromes(self) -> list[Any]:
        if not self.a.functional_syndromes:
            return []
        tab = Table.grid(padding=(0, 2))
        tab.add_column(style="bold", no_wrap=True, overflow="fold")
        tab.add_column(overflow="fold")
        for s in self.a.functional_syndromes:
            body = Text(self.t(f"syndrome_status.{s['status']}"), style="bold")
            for key, items, prefix in (
                ("label.criteria_met", s["criteria_met"], "criterion"),
                ("label.criteria_unmet", s["criteria_unmet"], "criterion"),
                ("label.next_tests", s["next_tests"], "test"),
                ("label.caveats", s["caveats"], "caveat"),
            ):
                if items:
                    shown = "; ".join(self._code(prefix, i) for i in items)
                    body.append(f"\n{self.t(key)}: {shown}")
            tab.add_row(self._code("syndrome", s["syndrome"]), body)
        return self._section("label.syndromes", tab)

    def workup(self) -> list[Any]:
        if not self.a.workup:
            return []
        tab = Table.grid(padding=(0, 1))
        tab.add_column(no_wrap=True, overflow="fold")
        tab.add_column(overflow="fold")
        for w in self.a.workup:
            body = Text(w["text"], style="bold")
            body.append(f"\n{w['reason']}")
            body.append(f"\n{w['rule_id']} · {', '.join(w['sources'])}", style="dim")
            tab.add_row("•", body)
        return self._section("label.workup", tab)

    def treatment(self) -> list[Any]:
        parts: list[Any] = []
        mdt = self.a.mdt_discussion
        if mdt is not None:
            line = Text(
                self.t("label.mdt_required" if mdt["required"] else "label.mdt_not_required"),
                style="bold magenta" if mdt["required"] else "dim",
            )
            for r in mdt["reasons"]:
                line.append(f"\n  - {self._mdt_reason(r)}")
            parts.append(line)
        recommended = [o for o in self.a.treatment if o.get("status") != "conditional"]
        conditional = [o for o in self.a.treatment if o.get("status") == "conditional"]
        if recommended:
            parts.append(self._options(recommended))
        if conditional:
            # settled options whose eligibility waits on an input: a group of their own, each
            # with the condition and the field that settles it
            parts.append(Text(self.t("label.treatment_conditional"), style="bold yellow"))
            parts.append(self._options(conditional))
        if not parts:
            return []
        return [Text(""), Text(self.t("label.treatment"), style="bold underline"), *parts]

    def _options(self, options: list[Any]) -> Any:
        tab = Table.grid(padding=(0, 1))
        tab.add_column(no_wrap=True, overflow="fold")
        tab.add_column(overflow="fold")
        semi = "；" if self.lang == "zh-CN" else "; "
        for o in options:
            body = Text(o["text"], style="bold")
            level = (
                f"{self.t('label.level')} {o['level']}"
                if o["level"] and o["level_status"] == "confirmed"
                else self.t("label.level_not_confirmed")
            )
            body.append(f"  [{self.ui.value(o['category'])}{semi}{level}")
            if o["evidence"]:
                body.append(f"{semi}{self.t('label.evidence')} {o['evidence']}")
            body.append("]")
            for r in o.get("requires") or []:
                field = self.cat.field_list(self.lang, [r["field"]])
                body.append(f"\n{r['condition']} ({field})", style="yellow")
            if not o["available"]:
                body.append(f"\n{self.t('label.unavailable')}", style="yellow")
                if o["alternative"]:
                    alt = self._code("option", o["alternative"])
                    body.append(f" {self.t('label.alternative')}: {alt}", style="yellow")
            if o["because"]:
                shown = self._join([self._prose(b) for b in o["because"]])
                body.append(f"\n{self.t('label.because')}: {shown}")
            if o["caveats"]:
                shown = self._join([self._prose(c) for c in o["caveats"]])
                body.append(f"\n{self.t('label.caveats')}: {shown}")
            body.append(f"\n{o['rule_id']} · {', '.join(o['sources'])}", style="dim")
            tab.add_row("?" if o.get("status") == "conditional" else "•", body)
        return tab

    def follow_up(self) -> list[Any]:
        f = self.a.follow_up
        if f is None:
            return []
        body = Text()
        if f["lifelong"] is not None:
            body.append(
                self.t("label.lifelong" if f["lifelong"] else "label.not_lifelong"), style="bold"
            )
        if f["schedule"]:
            body.append(f"\n{f['schedule']}")
        # visits grouped into runs ("every 3 months, 8 visits (...)"), not one line per visit
        runs = group_visits(f["visits"])
        tab = Table.grid(padding=(0, 1))
        tab.add_column(no_wrap=True)
        tab.add_column(overflow="fold")
        colon = "：" if self.lang == "zh-CN" else ": "
        sep = "、" if self.lang == "zh-CN" else ", "
        for run, line in zip(runs, describe_runs(runs, self.lang), strict=True):
            exams = sep.join(self._code("exam", e) for e in run.exams)
            tab.add_row("  •", f"{line}{colon}{exams}")
        rule = Text()
        if f["rule_id"]:
            rule.append(f"{f['rule_id']} · {', '.join(f['sources'])}", style="dim")
        return self._section("label.follow_up", Group(body, tab, rule))

    def hereditary(self) -> list[Any]:
        h = self.a.hereditary
        if h is None:
            return []
        rec = h["testing_recommended"]
        body = Text(
            self.t(
                "label.testing_recommended"
                if rec
                else "label.testing_not_recommended"
                if rec is False
                else "label.not_determined"
            ),
            style="bold",
        )
        # the same texts as the pages: the package's texts per syndrome and rule, in the
        # report's language (the engine's own "because" lines are English)
        sep = "、" if self.lang == "zh-CN" else ", "
        if h["syndromes"]:
            shown = sep.join(self.ui.kb_or(f"hereditary.syndrome.{x}", x) for x in h["syndromes"])
            body.append(f"\n{shown}")
        if h["genes"]:
            body.append(f"\n{self.t('label.genes')}: {', '.join(h['genes'])}")
        because = [
            self.ui.kb_or(f"hereditary.rule.{r}", b)
            for r, b in zip(h.get("rule_ids") or [], h["because"], strict=False)
        ] or list(h["because"])
        for b in because:
            body.append(f"\n  - {self._prose(b)}")
        if h["surveillance"]:
            body.append(f"\n{self.t('label.surveillance')}:")
            for item in h["surveillance"]:
                body.append(f"\n  - {self._code('surveillance', item)}")
        return self._section("label.hereditary", body)

    def render(self) -> Group:
        title = Text(self.t("label.title"), style="bold")
        return Group(
            Panel(self.header(), title=title, title_align="left"),
            self.summary(),
            *self.syndromes(),
            *self.workup(),
            *self.treatment(),
            *self.follow_up(),
            *self.hereditary(),
            Text(""),
            Text(self.t("label.issues"), style="bold underline"),
            self.issues(),
            Text(""),
            Text(self.t("label.reasons"), style="bold underline"),
            self.reasons(),
            Text(""),
            Text(self.a.disclaimer, style="italic"),
        )


def _short(v: Any) -> str:
    if isinstance(v, dict) and "one_of" in v:
        return "{" + ", ".join(map(str, v["one_of"])) + "}"
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, list):
        return "[" + ", ".join(map(str, v)) + "]"
    return str(v)


def render_text(a: Assessment, catalog: Catalog, console: Console) -> None:
    console.print(Report(a, catalog).render())
