"""Diagrams drawn from the same transition table that runs.

>>> from taskchart.statecharts import Field, declarative_task, compile_chart
>>> dot = to_dot(compile_chart(declarative_task("name", fields=[Field("name")])))
>>> "name__collecting -> name__confirming" in dot
True
"""

from .dot import to_dot

__all__ = ["to_dot"]
