"""Registry-scale use of the engine: synthetic cohorts, batch assessment of tables of cases, a
guideline-concordance audit, and an Apache Spark adapter.

The evaluation sits behind :class:`nenguide.batch.backend.Backend`; its first implementation runs
the per-case reference engine (:func:`nenguide.assess`) on each case. A columnar backend built on
the engine's fact layer can replace it without changing the readers, writers or the audit.
"""
