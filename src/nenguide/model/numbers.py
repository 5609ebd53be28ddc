"""Numbers in the case model: never a yes/no, never text.

In pydantic's lax mode a number field takes ``true`` as 1 and ``false`` as 0, and YAML 1.1
reads ``yes``/``no``/``on``/``off`` as booleans: a Ki-67 index of ``true`` was graded as 1 %
(G1), silently. Every number of the model is strict: it takes an integer or a float (a float
field takes an integer too), and refuses a boolean or a number written as text (``"12"``) with
the field's path. A registry table's cells are text: the batch's mapping reads them as numbers
first (:func:`nenguide.batch.mapping.typed_numbers`). Strictness is checked by pydantic-core
itself, with no Python call per value (validation is a fifth of a batch row's cost).
"""

from __future__ import annotations

from pydantic import Strict

#: add to a number's ``Annotated[...]``: strict, so a boolean or a number written as text is
#: refused (the case's own forms, a range or a size with its unit, cover what a report writes)
STRICT = Strict()
