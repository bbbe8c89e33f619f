"""Frameworks as data: the tree of an index, loaded from YAML or COINr tables and validated."""

from pipelines.framework.model import Composite, Framework, Node, Rule, View

__all__ = ["Composite", "Framework", "Node", "Rule", "View"]
