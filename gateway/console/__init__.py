"""The console: the gateway's web pages for administrators, finance, department heads and staff.

Served by the gateway itself under ``/console`` (``/`` redirects there), rendered on the server
with Jinja2; htmx (vendored under ``static/``) updates parts of a page. See ``mount.py``.
"""
