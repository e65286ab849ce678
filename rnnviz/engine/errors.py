"""The engine's error for bad values a person can cause (a setting, an array of the wrong shape)."""
from __future__ import annotations


class EngineError(ValueError):
    """A bad value given to the engine: the message says what is wrong and what to do."""
