"""Runnable examples: the LiveKit documentation's tasks and task groups on taskchart."""
