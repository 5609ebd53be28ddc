"""Registry-scale use of the engine: synthetic cohorts, batch assessment of tables of cases, a
guideline-concordance audit, and an Apache Spark adapter.

The evaluation sits behind :class:`nenguide.batch.backend.Backend`; its first implementation runs
the per-case reference engine (:func:`nenguide.assess`) on each case. A columnar backend built on
the engine's fact layer can replace it without changing the readers, writers or the audit.
"""

#: Rows each process assesses at once by default (``nenguide batch`` and ``nenguide
#: concordance``, ``--chunk-size``): memory stays flat as the input grows. The column path pays
#: a fixed cost per part, about 0.65-0.85 s of CPU whatever its size (a few hundred Polars
#: queries of thousands of expressions, each expression with a fixed cost), so a larger part
#: costs less a row and holds more memory. At 10^6 generated cases with two processes, parts of
#: 30 000 rows gave 10-11 % more cases a second than parts of 20 000, with a peak of 1.91-1.93
#: GiB for the whole process tree against 1.78-1.80 (parts of 40 000: 2.02 GiB, over the 2 GB
#: target; docs/benchmarks.md, session 21).
CHUNK_ROWS = 30_000
