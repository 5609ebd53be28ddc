"""Numbers in the case model: never a yes/no.

In pydantic's lax mode a number field takes ``true`` as 1 and ``false`` as 0, and YAML 1.1
reads ``yes``/``no``/``on``/``off`` as booleans. A Ki-67 index of ``true`` would then be
graded as 1 % (G1), silently. Every number of the model refuses a boolean, with the same error
type as any other value that is not a number, so its texts and the field path are the usual
ones.
"""

from __future__ import annotations

from typing import Any

from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError


def _not_bool(v: Any) -> Any:
    if isinstance(v, bool):
        raise PydanticCustomError("float_type", "Input should be a number, not true or false")
    return v


#: add to a number's ``Annotated[...]``: a boolean is refused instead of read as 1 or 0
NOT_BOOL = BeforeValidator(_not_bool)
