"""Versions of the core distribution and of the plugin API it offers."""

from __future__ import annotations

__version__ = "0.1.0"

#: The version of the hook specs and registry API. A plugin declares the range it supports in
#: its manifest (``core_api=">=0.1,<1"``); the plugin manager refuses plugins outside it.
CORE_API_VERSION = "0.1"
