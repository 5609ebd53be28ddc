"""YAML for untrusted case files: PyYAML's safe loader with bounds on nesting depth, the
number of aliases and the size of the document once aliases are expanded (see
:mod:`nenguide.limits`), so an alias bomb or a 10,000-deep file is refused in milliseconds
with a clear message instead of taking minutes, gigabytes or a traceback."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import yaml

from nenguide import limits


class InputTooComplex(ValueError):
    """The document exceeds a bound; the message says which and what is allowed."""


_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class _BoundedLoader(yaml.SafeLoader):
    """The safe loader with YAML 1.2's numbers: YAML 1.1 reads ``021`` as the octal 17,
    ``1:30`` as the base-60 90 and ``1_0`` as 10, which a clinician writing a Ki-67 or a size
    never means. A plain scalar is an integer or a float only when it is written in decimal
    (``21``, ``-3``, ``2.5``, ``1e3``, ``.inf``); anything else stays text, and the case model
    says what it expected. A key given twice in one mapping, and a date that does not exist,
    are errors instead of the last value or a traceback."""

    yaml_implicit_resolvers = {  # noqa: RUF012 (PyYAML's class-level table)
        first: [(tag, rx) for tag, rx in resolvers if tag not in (_INT, _FLOAT)]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def __init__(self, stream: str):
        super().__init__(stream)
        self._depth = 0
        self._aliases = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > limits.MAX_ALIASES:
                raise InputTooComplex(
                    f"more than {limits.MAX_ALIASES} YAML aliases (*name); write the values out"
                )
        self._depth += 1
        if self._depth > limits.MAX_DEPTH:
            raise InputTooComplex(f"nested deeper than {limits.MAX_DEPTH} levels")
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        if isinstance(node, yaml.MappingNode):
            seen: set[Any] = set()
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":  # "<<: *base": not a key
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    again = key in seen
                except TypeError:  # an unhashable key: the parent reports it
                    break
                if again:
                    raise limits.DuplicateKey(str(key))
                seen.add(key)
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node: Any) -> int:
        # decimal only: a plain scalar matched the decimal pattern; a tagged one may not
        return int(_number(node, lambda: int(self.construct_scalar(node))))

    def construct_yaml_float(self, node: Any) -> float:
        # PyYAML's own (.inf, .nan, an exponent); the pattern keeps base 60 out
        return float(_number(node, lambda: super(_BoundedLoader, self).construct_yaml_float(node)))

    def construct_yaml_timestamp(self, node: Any) -> Any:
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError as exc:  # a day, month or offset out of range: 2026-02-30
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"{self.construct_scalar(node)!r} is not a date ({exc})",
                node.start_mark,
            ) from None


def _number(node: Any, read: Callable[[], int | float]) -> int | float:
    """``read()``, the scalar ``node`` as a number; a YAML error at its position if it is no
    number (``!!int abc``), but Python's bound on an integer's digits, which the caller
    words."""
    try:
        return read()
    except ValueError as exc:
        if "digits" in str(exc):
            raise
        raise yaml.constructor.ConstructorError(
            None, None, f"{node.value!r} is not a decimal number", node.start_mark
        ) from None


_BoundedLoader.add_implicit_resolver(_INT, re.compile(r"^[-+]?[0-9]+$"), list("-+0123456789"))
_BoundedLoader.add_implicit_resolver(
    _FLOAT,
    re.compile(
        r"^(?:[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)
_BoundedLoader.add_constructor(_INT, _BoundedLoader.construct_yaml_int)
_BoundedLoader.add_constructor(_FLOAT, _BoundedLoader.construct_yaml_float)
_BoundedLoader.add_constructor(_TIMESTAMP, _BoundedLoader.construct_yaml_timestamp)


def _expanded_size(root: yaml.Node) -> int:
    """How many nodes the document has once every alias is expanded (memoised per node)."""
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if id(node) in sizes:
            continue
        children: list[yaml.Node] = []
        if isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        if done or not children:
            sizes[id(node)] = 1 + sum(sizes.get(id(c), 0) for c in children)
            continue
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in sizes)
    return sizes[id(root)]


def load(text: str) -> Any:
    """Parse one YAML document within the bounds; raises :class:`InputTooComplex`,
    :class:`~nenguide.limits.DuplicateKey` or :class:`yaml.YAMLError`."""
    if len(text.encode("utf-8", "surrogatepass")) > limits.MAX_CASE_BYTES:
        raise InputTooComplex(f"larger than {limits.MAX_CASE_BYTES // 1024} KiB")
    loader = _BoundedLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node) > limits.MAX_EXPANDED_NODES:
            raise InputTooComplex(
                f"more than {limits.MAX_EXPANDED_NODES} values once its aliases are expanded"
            )
        return loader.construct_document(node)
    finally:
        loader.dispose()
