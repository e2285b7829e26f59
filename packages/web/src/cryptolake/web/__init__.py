"""cryptolake-web: the Reflex web app; it talks to the API over HTTP/WebSocket only."""

from __future__ import annotations

__version__ = "0.1.0"
