"""Reading a spec's YAML safely, with the line each field starts on.

The loader bounds nesting and the size with aliases expanded ("billion laughs"), and refuses timestamps
that are no real date; `field_lines` maps each field path to its line and finds duplicate keys.
"""
from __future__ import annotations

import yaml

from grader.messages import render, said

MAX_YAML_DEPTH = 32  # a spec needs about 6 levels
MAX_YAML_NODES = 200_000  # every alias counted as the copy it stands for; 256 KB without aliases stays below

FieldPath = tuple  # ("checks", 0, "rtol"): keys and list positions from the top of the spec


class YAMLRefusal(yaml.MarkedYAMLError):
    """What the loader refuses, at its mark: a message (grader.messages.said); its problem is the English text."""

    def __init__(self, message: dict, mark):
        super().__init__(problem=render(message["code"], message["params"]), problem_mark=mark)
        self.message = message


class LineLoader(yaml.SafeLoader):
    """SafeLoader with bounds on nesting and on size with aliases expanded (no "billion laughs")."""

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0
        self._sizes: dict[int, int] = {}  # id(node) -> how many nodes it stands for, once composed

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            node = self.anchors.get(event.anchor)
            if node is not None:
                if id(node) not in self._sizes:
                    raise YAMLRefusal(said("spec.alias_in_own_anchor", anchor=event.anchor), event.start_mark)
                self._count(self._sizes[id(node)], event.start_mark)
            return super().compose_node(parent, index)
        mark = self.peek_event().start_mark
        self._depth += 1
        if self._depth > MAX_YAML_DEPTH:
            raise YAMLRefusal(said("spec.too_deep", levels=MAX_YAML_DEPTH), mark)
        before = self._nodes
        self._count(1, mark)
        node = super().compose_node(parent, index)
        self._depth -= 1
        self._sizes[id(node)] = self._nodes - before
        return node

    def construct_yaml_timestamp(self, node):
        # "+25:00" or "2026-02-30" passes YAML's pattern but not datetime: a ValueError without a line
        try:
            return super().construct_yaml_timestamp(node)
        except (ValueError, OverflowError) as exc:
            raise YAMLRefusal(said("spec.not_a_date", value=repr(node.value), error=str(exc)),
                              node.start_mark) from None

    def _count(self, nodes: int, mark) -> None:
        self._nodes += nodes
        if self._nodes > MAX_YAML_NODES:
            raise YAMLRefusal(said("spec.too_many_values", values=MAX_YAML_NODES), mark)


LineLoader.add_constructor("tag:yaml.org,2002:timestamp", LineLoader.construct_yaml_timestamp)


def field_lines(node: yaml.Node, path: FieldPath = (), lines: dict | None = None, problems: list | None = None
                ) -> tuple[dict[FieldPath, int], list[tuple[int, FieldPath, str]]]:
    """Map each field path to the line it starts on; collect duplicate keys as (line, path, problem as a message)."""
    lines = {} if lines is None else lines
    problems = [] if problems is None else problems
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen = set()
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
            if key in seen:
                problems.append((key_node.start_mark.line + 1, path + (key,),
                                 said("spec.duplicate_key", key=repr(key))))
            seen.add(key)
            lines[path + (key,)] = key_node.start_mark.line + 1
            field_lines(value_node, path + (key,), lines, problems)
            lines[path + (key,)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            field_lines(item, path + (i,), lines, problems)
    return lines, problems


def line_for(lines: dict[FieldPath, int], path: FieldPath) -> int | None:
    """The line of a field, or of the nearest field around it that the YAML has."""
    while path not in lines and path:
        path = path[:-1]
    return lines.get(path)


def field_name(path: FieldPath) -> str:
    """A field path as an instructor writes it: `checks[0].rtol`."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"
