"""Adapters that perform the runtime's effects: ``console`` (offline demo) and ``livekit``."""
