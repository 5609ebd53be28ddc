"""YAML for untrusted case files: PyYAML's safe loader with bounds on nesting depth, the
number of aliases and the size of the document once aliases are expanded (see
:mod:`nenguide.limits`), so an alias bomb or a 10,000-deep file is refused in milliseconds
with a clear message instead of taking minutes, gigabytes or a traceback."""

from __future__ import annotations

from typing import Any

import yaml

from nenguide import limits


class InputTooComplex(ValueError):
    """The document exceeds a bound; the message says which and what is allowed."""


class _BoundedLoader(yaml.SafeLoader):
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
    """Parse one YAML document within the bounds; raises :class:`InputTooComplex` or
    :class:`yaml.YAMLError`."""
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
