"""Pieces shared by the pages: the layout with its banners and as-of selector, tables, figures."""
