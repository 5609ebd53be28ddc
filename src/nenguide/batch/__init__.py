"""Registry-scale use of the engine: synthetic cohorts, batch assessment of tables of cases, a
guideline-concordance audit, and an Apache Spark adapter.

The evaluation sits behind :class:`nenguide.batch.backend.Backend`; its first implementation runs
the per-case reference engine (:func:`nenguide.assess`) on each case. A columnar backend built on
the engine's fact layer can replace it without changing the readers, writers or the audit.
"""

#: Rows per chunk by default (``nenguide batch`` and ``nenguide concordance``, ``--chunk-size``):
#: memory stays flat as the input grows. With worker processes each gets an equal part of every
#: chunk; the columnar core pays a fixed cost per part (~37 ms, the compiled plan), so parts of
#: 10 000 rows (two processes) beat parts of 5 000: 200 000 cases in 28.4-28.5 s against
#: 29.7-31.5 s, for ~100 MB more memory in the main process (docs/benchmarks.md, session 12).
CHUNK_ROWS = 20_000
