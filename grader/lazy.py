"""Modules imported on first use, where start-up time matters (the CLI, launching the worker)."""

from __future__ import annotations

import importlib


class OnFirstUse:
    """Stands for the module ``name``, importing it when one of its attributes is first read."""

    def __init__(self, name: str):
        self._name = name
        self._module = None

    def __getattr__(self, attr: str):
        module = self._module
        if module is None:  # import_module on every read cost ~20 us: thousands per a4 submission
            module = self._module = importlib.import_module(self._name)
        return getattr(module, attr)
