"""Reflex configuration of the CryptoLake web app (the app root is this directory).

Started by ``python -m cryptolake.web serve`` (the ``web`` stack service), which sets the
environment that keeps Reflex offline (bun path, no telemetry, no version check) and moves the
build directory (``.web``) out of the repository, under ``$CRYPTOLAKE_HOME/web/build``.
"""

import reflex as rx
from reflex_base.plugins.sitemap import SitemapPlugin

config = rx.Config(
    app_name="cryptolake_web",
    app_module_import="cryptolake.web.app",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    plugins=[rx.plugins.RadixThemesPlugin(theme=rx.theme(appearance="light", accent_color="indigo"))],
    disable_plugins=[SitemapPlugin],
    frontend_compression_formats=[],
)
