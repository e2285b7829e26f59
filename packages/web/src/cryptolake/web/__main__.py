"""``python -m cryptolake.web serve``: the web app in production mode (see :mod:`cryptolake.web.serve`)."""

from __future__ import annotations

from cryptolake.web.serve import main

if __name__ == "__main__":
    raise SystemExit(main())
