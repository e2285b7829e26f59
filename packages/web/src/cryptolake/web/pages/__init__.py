"""The pages, one module each; :mod:`cryptolake.web.app` adds them with their routes."""
