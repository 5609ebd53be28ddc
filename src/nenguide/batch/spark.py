"""Apache Spark adapter (the ``[spark]`` extra): assess a DataFrame of cases on a cluster.

:func:`assess` returns a Spark DataFrame with one row per input row: the input's id column (if
named), the assessment's flattened contract columns (:mod:`nenguide.batch.flatten`), and
``error``: null for an assessed case, else why the row was not assessed (invalid case, with the
field paths; or the engine's error). A bad row never fails the job.

Evaluation runs in ``mapInArrow`` over Arrow record batches with the columnar backend
(:mod:`nenguide.batch.columnar`: the core steps over each whole batch) or, with
``backend="per-case"``, the reference engine case by case; the rows are identical.
The knowledge package is loaded once per executor Python worker (the loader is cached and Spark
reuses its Python workers), never per row; the driver broadcasts the package's content hash and
each worker checks it, so an executor with a different knowledge version fails loudly instead of
answering differently.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from nenguide.batch.flatten import ASSESSMENT_COLUMNS
from nenguide.knowledge import DEFAULT_GUIDELINE

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import DataFrame

    from nenguide.batch.backend import Backend


def _arrow_type(kind: str) -> Any:
    import pyarrow as pa

    return {
        "str": pa.string(),
        "bool": pa.bool_(),
        "int": pa.int64(),
        "date": pa.date32(),
        "list[str]": pa.list_(pa.string()),
        "list[bool]": pa.list_(pa.bool_()),
    }[kind]


def output_arrow_schema(id_column: str | None) -> pa.Schema:
    import pyarrow as pa

    fields = []
    if id_column:
        fields.append(pa.field(id_column, pa.string()))
    fields += [pa.field(k, _arrow_type(v)) for k, v in ASSESSMENT_COLUMNS.items()]
    fields.append(pa.field("error", pa.string()))
    return pa.schema(fields)


def assess_batches(
    batches: Iterator[pa.RecordBatch],
    *,
    case_column: str,
    id_column: str | None,
    guideline: str,
    as_of: dt.date,
    lang: str,
    content_hash: str | None,
    backend: str = "columnar",
) -> Iterator[pa.RecordBatch]:
    """The function Spark runs in each task: Arrow batches of JSON cases in, flat rows out.
    Usable (and tested) without Spark."""

    from nenguide.batch.backend import gc_paused_run, make_backend
    from nenguide.knowledge import load

    kb = load(guideline)  # cached: once per worker process
    if content_hash is not None and kb.manifest.content_hash != content_hash:
        raise RuntimeError(
            f"knowledge package {guideline} on this executor has content hash "
            f"{kb.manifest.content_hash}, the driver has {content_hash}: install the same "
            "nenguide version on every node"
        )
    engine = make_backend(backend, guideline, as_of, lang, processes=1)
    id_name = _id_name(id_column)
    schema = output_arrow_schema(id_name)
    blank = dict.fromkeys(ASSESSMENT_COLUMNS)
    # the collector paused for the whole task and run after each batch, as in a worker process
    # of `nenguide batch` (nenguide.batch.rows.init_worker): on between batches, validating the
    # cases and building the Arrow batch set off collections of what the task's memo holds
    with gc_paused_run() as collect:
        for batch in batches:
            yield _assessed_batch(batch, engine, case_column, id_column, id_name, schema, blank)
            collect()


def _assessed_batch(
    batch: pa.RecordBatch,
    engine: Backend,
    case_column: str,
    id_column: str | None,
    id_name: str | None,
    schema: pa.Schema,
    blank: dict[str, Any],
) -> pa.RecordBatch:
    """One Arrow batch of cases assessed: its flat rows, with ``error`` where a case is
    rejected."""
    import pyarrow as pa

    from nenguide.batch.backend import Failure
    from nenguide.batch.mapping import typed_numbers
    from nenguide.batch.rows import plain_case_line
    from nenguide.errors import CaseInputError, parse_case

    texts = batch.column(case_column).to_pylist()
    ids = batch.column(id_column).to_pylist() if id_column else [None] * len(texts)
    rows: list[dict[str, Any]] = [{} for _ in texts]
    todo = []
    lines: list[str | None] = []  # each case's text where validated strictly (the columns')
    for i, text in enumerate(texts):
        # a case as it is, validated straight from its text (as nenguide batch does); any
        # other text takes the general path, which words the reject
        if isinstance(text, str) and (fast := plain_case_line(text)) is not None:
            todo.append((i, fast.case))
            lines.append(text if fast.strict else None)
            continue
        try:
            if text is None:
                raise CaseInputError("the case is empty", [])
            data = json.loads(text) if isinstance(text, str) else text
            if isinstance(data, dict) and isinstance(data.get("case"), dict):
                data = data["case"]
            # a Spark column is a table's: numbers may come as text or as whole floats
            todo.append((i, parse_case(typed_numbers(data))))
            lines.append(None)
        except json.JSONDecodeError as exc:
            rows[i] = {**blank, "error": f"not valid JSON: {exc.msg}"}
        except CaseInputError as exc:
            detail = "; ".join(f"{e.path}: {e.message}" for e in exc.errors)
            rows[i] = {**blank, "error": exc.summary + (f" ({detail})" if detail else "")}
    results = engine.assess([c for _, c in todo], lines)
    for (i, _), res in zip(todo, results, strict=True):
        if isinstance(res, Failure):
            rows[i] = {**blank, "error": res.error}
        else:
            rows[i] = {**res, "error": None}
    if id_name:
        for i, rid in enumerate(ids):
            rows[i][id_name] = None if rid is None else str(rid)
    return pa.RecordBatch.from_pylist(rows, schema=schema)


def _id_name(id_column: str | None) -> str | None:
    from nenguide.batch.io import id_output_name

    return id_output_name(id_column)


def assess(
    df: DataFrame,
    *,
    case_column: str = "case",
    id_column: str | None = None,
    guideline: str = DEFAULT_GUIDELINE,
    as_of: dt.date | None = None,
    lang: str = "en",
    backend: str = "columnar",
) -> DataFrame:
    """Assess every case of ``df`` on the cluster.

    ``case_column`` holds each case as JSON text (e.g. ``spark.read.text`` of ``nenguide synth``
    output, renamed) or as a struct (``spark.read.json``); ``id_column`` is echoed (prefixed
    ``input_`` if it clashes with a contract key). ``as_of`` defaults to today, fixed on the
    driver so every executor uses the same date. ``backend``: ``columnar`` (default) or
    ``per-case`` (identical rows).
    """
    from pyspark.sql import functions as F
    from pyspark.sql.types import StructType

    from nenguide.knowledge import load

    as_of = as_of or dt.date.today()
    kb = load(guideline)
    spark = df.sparkSession
    from nenguide.batch.backend import BACKENDS

    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; use one of {', '.join(BACKENDS)}")
    shipped = spark.sparkContext.broadcast(
        (guideline, kb.manifest.content_hash, as_of, lang, backend)
    )

    if isinstance(df.schema[case_column].dataType, StructType):
        df = df.withColumn(case_column, F.to_json(F.col(case_column)))
    cols = [F.col(case_column).cast("string").alias("__case")]
    if id_column:
        cols.append(F.col(id_column).cast("string").alias("__id"))
    slim = df.select(*cols)
    schema = output_arrow_schema(_id_name(id_column))

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        g, content_hash, day, language, name = shipped.value
        return assess_batches(
            batches,
            case_column="__case",
            id_column="__id" if id_column else None,
            guideline=g,
            as_of=day,
            lang=language,
            content_hash=content_hash,
            backend=name,
        )

    from pyspark.sql.pandas.types import from_arrow_schema

    return slim.mapInArrow(run, from_arrow_schema(schema))
