"""YAML from an artifact (lockfiles, gem metadata) without alias bombs.

An alias is a reference: a few hundred bytes of anchors and aliases compose into a small graph
that expands, as soon as anyone walks it, into billions of nodes (a "billion laughs"). The
document's node graph is measured with every alias expanded before anything is built from
it; above ``MAX_NODES`` (or with an alias cycle) the document is refused.
"""

from __future__ import annotations

from typing import Any

import yaml

from finalexam.errors import UnsafeDocument

MAX_NODES = 1_000_000


class YamlBomb(UnsafeDocument):
    """The document expands past the node limit through its aliases."""


class BoundedLoader(yaml.SafeLoader):  # type: ignore[misc]
    """``yaml.SafeLoader`` that refuses documents expanding past ``MAX_NODES``."""

    def construct_document(self, node: yaml.Node) -> Any:
        if expanded_size(node, MAX_NODES) > MAX_NODES:
            raise YamlBomb(f"YAML document expands past {MAX_NODES} nodes through aliases")
        return super().construct_document(node)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def expanded_size(root: yaml.Node, limit: int) -> int:
    """Nodes in the tree ``root`` stands for, aliases expanded (``limit + 1`` once past it)."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            open_nodes.discard(key)
            total = 1 + sum(sizes[id(child)] for child in _children(node))
            sizes[key] = min(total, limit + 1)
            continue
        if key in sizes:
            continue
        if key in open_nodes:
            return limit + 1  # an alias cycle: infinite when expanded
        open_nodes.add(key)
        stack.append((node, True))
        for child in _children(node):
            if id(child) in open_nodes:
                return limit + 1
            if id(child) not in sizes:
                stack.append((child, False))
    return sizes[id(root)]


def load(text: str, loader: type[BoundedLoader] = BoundedLoader) -> Any:
    """The document; ``yaml.YAMLError`` when it is not YAML, ``YamlBomb`` when refused."""
    return yaml.load(text, Loader=loader)
