"""Columnar evaluation of the knowledge tables over whole chunks of cases (issue 12, part 1)."""

from nenguide.batch.columnar.backend import ColumnarBackend, fact_frame, program
from nenguide.batch.columnar.core import CoreProgram

__all__ = ["ColumnarBackend", "CoreProgram", "fact_frame", "program"]
