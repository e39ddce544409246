"""Modules imported on first use, where start-up time matters (the CLI, launching the worker)."""

from __future__ import annotations

import importlib


class OnFirstUse:
    """Stands for the module ``name``, importing it when one of its attributes is first read."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr: str):
        return getattr(importlib.import_module(self._name), attr)
