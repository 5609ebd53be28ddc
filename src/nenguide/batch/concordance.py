"""Guideline-concordance audit: quality indicators (``data/indicators.yaml``, each with its
source) evaluated over assessed cases and their delivered care, with Wilson 95 % confidence
intervals, overall and by site, grade and year.

Indicator conditions are compiled to Polars expressions with three-valued logic: a condition on a
missing value is unknown, never false. Eligibility unknown is counted as such; among the
eligible, care that is not recorded is counted as ``not_recorded`` and left out of the rate (the
report shows how many).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from functools import reduce
from importlib import resources
from pathlib import Path
from typing import Any

import polars as pl
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from nenguide.batch import CHUNK_ROWS
from nenguide.batch.backend import Backend
from nenguide.batch.io import RejectWriter
from nenguide.batch.mapping import Mapper
from nenguide.batch.rows import CASE_COLUMNS  # columns taken from the case itself
from nenguide.batch.runner import Counts, assessed_chunks
from nenguide.limits import AS_OF_MAX, AS_OF_MIN
from nenguide.model.clinical import Therapy

Z95 = 1.959963984540054

#: Delivered-care columns (``care.<name>`` in tables, ``care`` object in JSON Lines) and types.
CARE_COLUMNS: dict[str, str] = {
    "year": "int",
    "first_line_systemic": "str",
    "procedures": "list[str]",
    "ssa_start": "date",
    "prrt_start": "date",
    "sstr_imaging_done": "bool",
    "sstr_imaging_date": "date",
    "genetic_testing_offered": "bool",
    "mdt_discussed": "bool",
    "follow_up_done": "bool",
    "mdt_follows_guideline": "bool",
    "mdt_departure_reason": "str",
}

_PL: dict[str, Any] = {
    "str": pl.String,
    "int": pl.Int64,
    "float": pl.Float64,
    "bool": pl.Boolean,
    "date": pl.Date,
    "list[str]": pl.List(pl.String),
    "list[bool]": pl.List(pl.Boolean),
}


class IndicatorError(Exception):
    pass


class CareError(ValueError):
    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


class Indicator(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    title: str
    title_zh: str | None = None
    sources: list[str] = Field(min_length=1)
    note: str | None = None
    denominator: dict[str, Any]
    numerator: dict[str, Any]


class IndicatorFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    version: int
    indicators: list[Indicator] = Field(min_length=1)


def audit_columns() -> dict[str, str]:
    from nenguide.batch.flatten import ASSESSMENT_COLUMNS

    cols = dict(ASSESSMENT_COLUMNS)
    cols.update(CASE_COLUMNS)
    cols.update({f"care_{k}": v for k, v in CARE_COLUMNS.items()})
    return cols


def load_indicators(path: Path | None = None) -> list[Indicator]:
    if path is None:
        text = resources.files("nenguide.batch").joinpath("data/indicators.yaml").read_text("utf-8")
        label = "packaged indicators"
    else:
        text = path.read_text(encoding="utf-8")
        label = str(path)
    try:
        inds = IndicatorFile.model_validate(yaml.safe_load(text)).indicators
    except (ValidationError, yaml.YAMLError) as exc:
        raise IndicatorError(f"invalid indicator file {label}: {exc}") from None
    cols = audit_columns()
    for ind in inds:
        for part in ("denominator", "numerator"):
            try:
                compile_condition(getattr(ind, part), cols)
            except IndicatorError as exc:
                raise IndicatorError(f"{label}: {ind.id}.{part}: {exc}") from None
    return inds


_OPS = {
    "eq",
    "in",
    "lt",
    "le",
    "gt",
    "ge",
    "is",
    "present",
    "starts_with",
    "contains",
    "any_of",
    "on_or_before",
}


def compile_condition(cond: dict[str, Any], cols: dict[str, str]) -> pl.Expr:
    """A condition (see ``data/indicators.yaml``) as a Polars boolean expression (Kleene logic)."""
    if not isinstance(cond, dict) or not cond:
        raise IndicatorError("a condition must be a mapping")
    if "all" in cond or "any" in cond:
        key = "all" if "all" in cond else "any"
        parts = [compile_condition(c, cols) for c in cond[key]]
        if not parts:
            raise IndicatorError(f"'{key}' needs at least one condition")
        return reduce((lambda a, b: a & b) if key == "all" else (lambda a, b: a | b), parts)
    if "not" in cond:
        return ~compile_condition(cond["not"], cols)
    name = cond.get("column")
    if name not in cols:
        raise IndicatorError(f"unknown column {name!r}")
    ops = set(cond) - {"column"}
    if len(ops) != 1 or not ops <= _OPS:
        raise IndicatorError(f"give exactly one operator of {sorted(_OPS)}; got {sorted(ops)}")
    op = ops.pop()
    arg = cond[op]
    c = pl.col(name)
    if op == "eq":
        return c.eq(arg)
    if op == "in":
        return c.is_in(list(arg))
    if op in ("lt", "le", "gt", "ge"):
        return {"lt": c.lt(arg), "le": c.le(arg), "gt": c.gt(arg), "ge": c.ge(arg)}[op]
    if op == "is":
        return c.eq(bool(arg))
    if op == "present":
        return c.is_not_null() if arg else c.is_null()
    if op == "starts_with":
        return c.str.starts_with(str(arg))
    if op == "contains":
        return c.list.contains(arg)
    if op == "any_of":
        return reduce(lambda a, b: a | b, [c.list.contains(v) for v in arg])
    # on_or_before: on or before each of the other (date) columns that is given
    others = [arg] if isinstance(arg, str) else list(arg)
    for o in others:
        if o not in cols:
            raise IndicatorError(f"unknown column {o!r}")
    return reduce(lambda a, b: a & b, [(c <= pl.col(o)) | pl.col(o).is_null() for o in others])


def coerce_care(care: dict[str, Any]) -> dict[str, Any]:
    """Delivered care, typed; an unknown name or a value of the wrong kind raises
    :class:`CareError` (the row is rejected, naming the column)."""
    out: dict[str, Any] = {}
    for name, value in care.items():
        kind = CARE_COLUMNS.get(name)
        if kind is None:
            raise CareError(
                name, f"unknown care column '{name}'; allowed: {', '.join(CARE_COLUMNS)}"
            )
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        try:
            typed = _coerce(value, kind)
        except (ValueError, TypeError):
            raise CareError(name, f"care.{name}: {value!r} is not {_KIND_TEXT[kind]}") from None
        allowed = _CARE_VALUES.get(name)
        if allowed is not None and typed not in allowed[0]:
            # a typo would otherwise count as "not concordant" (or a year of its own)
            raise CareError(name, f"care.{name}: {value!r} is not {allowed[1]}")
        out[f"care_{name}"] = typed
    return out


#: care columns with a closed set of values: the set, and how it reads in an error
_CARE_VALUES: dict[str, tuple[Any, str]] = {
    "first_line_systemic": (
        frozenset({t.value for t in Therapy} | {"none"}),
        "a therapy code of clinical.prior_therapies[].therapy ("
        + ", ".join(t.value for t in Therapy)
        + ") or none",
    ),
    "year": (
        range(AS_OF_MIN.year, AS_OF_MAX.year + 1),
        f"a year from {AS_OF_MIN.year} to {AS_OF_MAX.year}",
    ),
}


_KIND_TEXT = {
    "int": "a whole number",
    "str": "text",
    "bool": "true or false",
    "date": "a date YYYY-MM-DD",
    "list[str]": "a list (or ';'-separated text)",
}
_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0"}


def _coerce(value: Any, kind: str) -> Any:
    if kind == "int":
        if isinstance(value, bool):
            raise ValueError
        return int(str(value).strip())
    if kind == "str":
        return str(value).strip()
    if kind == "bool":
        if isinstance(value, bool):
            return value
        s = str(value).strip().lower()
        if s in _TRUE:
            return True
        if s in _FALSE:
            return False
        raise ValueError
    if kind == "date":
        return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value).strip())
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, str):
        return [s.strip() for s in value.split(";") if s.strip()]
    raise ValueError


@dataclass
class AuditResult:
    table: pl.DataFrame
    frame: pl.DataFrame
    read: int
    assessed: int
    rejected: int


DIMENSIONS = ("overall", "site", "grade", "year")


def audit(
    path: str,
    fmt: str,
    mapper: Mapper,
    backend: Backend,
    indicators: list[Indicator],
    rejected_path: str,
    chunk_size: int = CHUNK_ROWS,
) -> AuditResult:
    cols = audit_columns()
    schema = {k: _PL[v] for k, v in cols.items()}
    schema = {"row": pl.Int64, "id": pl.String, **schema}
    frames: list[pl.DataFrame] = []
    rejects = RejectWriter(rejected_path)
    counts = Counts()
    chunks = assessed_chunks(path, fmt, mapper, backend, rejects, counts, chunk_size)
    try:
        for chunk in chunks:
            rows = []
            for a in chunk:
                try:
                    care = coerce_care(a.care)
                except CareError as exc:
                    rejects.add(a.row, a.id, "care", f"care.{exc.name}", None, str(exc))
                    continue
                # the case columns as the per-row work read them (in a worker, maybe)
                rows.append({"row": a.row, "id": a.id, **a.flat, **care, **a.case_columns})
            if rows:
                frames.append(pl.DataFrame(rows, schema=schema, orient="row"))
            del rows, chunk  # kept as a frame: freed before the next chunk's collection
    finally:
        chunks.close()  # stops the worker processes, on an error too
        rejects.close()
    frame = pl.concat(frames) if frames else pl.DataFrame(schema=schema)
    return AuditResult(
        concordance_table(frame, indicators), frame, counts.read, counts.assessed, len(rejects.rows)
    )


def _levels(frame: pl.DataFrame) -> pl.DataFrame:
    grade = (
        pl.coalesce(pl.col("classification_grade"), pl.col("classification_category"))
        .fill_null("unknown")
        .alias("grade")
    )
    return frame.with_columns(
        pl.lit("all").alias("overall"),
        pl.col("tumour_primary_site").fill_null("unknown").alias("site"),
        grade,
        pl.col("care_year").cast(pl.String).fill_null("unknown").alias("year"),
    )


def concordance_table(frame: pl.DataFrame, indicators: list[Indicator]) -> pl.DataFrame:
    """Counts, rates and Wilson 95 % intervals per indicator and per level of each dimension."""
    cols = audit_columns()
    base = _levels(frame)
    parts: list[pl.DataFrame] = []
    for ind in indicators:
        den = compile_condition(ind.denominator, cols)
        num = compile_condition(ind.numerator, cols)
        scored = base.with_columns(den.alias("_den"), num.alias("_num"))
        for dim in DIMENSIONS:
            den_yes = pl.col("_den").fill_null(False)
            num_yes = pl.col("_num").fill_null(False)
            num_no = (~pl.col("_num")).fill_null(False)
            g = scored.group_by(dim).agg(
                den_yes.sum().alias("eligible"),
                pl.col("_den").is_null().sum().alias("eligibility_unknown"),
                (den_yes & num_yes).sum().alias("concordant"),
                (den_yes & num_no).sum().alias("not_concordant"),
                (den_yes & pl.col("_num").is_null()).sum().alias("not_recorded"),
            )
            parts.append(
                g.rename({dim: "level"}).with_columns(
                    pl.lit(ind.id).alias("indicator"), pl.lit(dim).alias("dimension")
                )
            )
    if not parts:
        return pl.DataFrame()
    table = pl.concat(parts, how="diagonal_relaxed")
    rows = []
    for r in table.iter_rows(named=True):
        n = int(r["concordant"]) + int(r["not_concordant"])
        low, high = wilson(int(r["concordant"]), n)
        r.update(
            recorded=n,
            rate=(r["concordant"] / n) if n else None,
            ci_low=low,
            ci_high=high,
        )
        rows.append(r)
    order = {ind.id: i for i, ind in enumerate(indicators)}
    out = pl.DataFrame(rows).select(
        "indicator",
        "dimension",
        "level",
        "eligible",
        "concordant",
        "not_concordant",
        "not_recorded",
        "recorded",
        "eligibility_unknown",
        "rate",
        "ci_low",
        "ci_high",
    )
    return (
        out.with_columns(
            pl.col("indicator").replace_strict(order, return_dtype=pl.Int64).alias("_o"),
            pl.col("dimension")
            .replace_strict({d: i for i, d in enumerate(DIMENSIONS)}, return_dtype=pl.Int64)
            .alias("_d"),
        )
        .sort("_o", "_d", "level")
        .drop("_o", "_d")
    )


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float | None, float | None]:
    """Wilson score interval for a proportion (``None`` when ``n`` is 0)."""
    if n <= 0:
        return None, None
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # rounding can put a bound a hair past the rate at 0/n or n/n (the report's error bars
    # then have a negative length and matplotlib refuses them): the interval holds the rate
    return min(p, max(0.0, centre - half)), max(p, min(1.0, centre + half))


# ------------------------------------------------------------------ CDS Hooks feedback (issue 11)

#: The indicator made from the EHR's CDS Hooks feedback: of the cards the EHR user acted on, how
#: many were accepted (the others were overridden, with a reason).
CDS_FEEDBACK_ID = "cds_card_accepted"
#: The kind of card each CDS service returns (a service returns one card, its MDT summary).
CDS_CARD_KINDS = {"nenguide-patient-view": "NEN MDT summary card (nenguide-patient-view)"}
FEEDBACK_DIMENSIONS = ("overall", "card", "issuer", "year")


def feedback_indicator(rows: list[dict[str, Any]]) -> Indicator:
    """The CDS feedback indicator, its note naming the override reasons and their counts."""
    reasons: dict[str, int] = {}
    for r in rows:
        if r["outcome"] == "overridden":
            code = r.get("override_code") or "(no reason given)"
            reasons[code] = reasons.get(code, 0) + 1
    listed = ", ".join(f"{k} {v}" for k, v in sorted(reasons.items(), key=lambda kv: -kv[1]))
    return Indicator(
        id=CDS_FEEDBACK_ID,
        title="CDS Hooks card accepted in the EHR (vs overridden)",
        title_zh="EHR 中 CDS Hooks 卡片被采纳（相对于被驳回）",
        sources=["CDS Hooks 2.0 feedback (https://cds-hooks.hl7.org/2.0/#feedback)"],
        note=(
            "From the EHR's feedback on nenguide's cards, not from the cases: 'concordant' = "
            "accepted, 'not concordant' = overridden. Overrides by reason: "
            + (listed or "none")
            + ". Cards shown but not acted on send no feedback and are not counted."
        ),
        denominator={"cds_feedback": "every feedback item"},
        numerator={"cds_feedback": "outcome accepted"},
    )


def feedback_table(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Accepted / overridden counts of the CDS feedback ``rows`` (as
    ``nenguide.store.cds_feedback.list_feedback`` gives them) in the columns of
    :func:`concordance_table`, overall and per card kind, issuer and year of the outcome."""
    out = []
    for dim in FEEDBACK_DIMENSIONS:
        groups: dict[str, list[int]] = {}
        for r in rows:
            if dim == "overall":
                level = "all"
            elif dim == "card":
                level = CDS_CARD_KINDS.get(r["service_id"], r["service_id"])
            elif dim == "issuer":
                level = r.get("issuer") or "unknown"
            else:
                level = str(r.get("outcome_timestamp") or "unknown")[:4]
            g = groups.setdefault(level, [0, 0])
            g[0 if r["outcome"] == "accepted" else 1] += 1
        for level, (acc, ovr) in sorted(groups.items()):
            n = acc + ovr
            low, high = wilson(acc, n)
            out.append(
                {
                    "indicator": CDS_FEEDBACK_ID,
                    "dimension": dim,
                    "level": level,
                    "eligible": n,
                    "concordant": acc,
                    "not_concordant": ovr,
                    "not_recorded": 0,
                    "recorded": n,
                    "eligibility_unknown": 0,
                    "rate": acc / n if n else None,
                    "ci_low": low,
                    "ci_high": high,
                }
            )
    schema = {
        "indicator": pl.String,
        "dimension": pl.String,
        "level": pl.String,
        "eligible": pl.Int64,
        "concordant": pl.Int64,
        "not_concordant": pl.Int64,
        "not_recorded": pl.Int64,
        "recorded": pl.Int64,
        "eligibility_unknown": pl.Int64,
        "rate": pl.Float64,
        "ci_low": pl.Float64,
        "ci_high": pl.Float64,
    }
    return pl.DataFrame(out, schema=schema, orient="row")


def with_feedback(
    result: AuditResult, indicators: list[Indicator], rows: list[dict[str, Any]]
) -> tuple[AuditResult, list[Indicator]]:
    """The audit with the CDS feedback indicator added to its table (and report)."""
    extra = feedback_table(rows)
    table = (
        pl.concat([result.table, extra], how="diagonal_relaxed") if result.table.height else extra
    )
    merged = AuditResult(table, result.frame, result.read, result.assessed, result.rejected)
    return merged, [*indicators, feedback_indicator(rows)]
