"""The routes: OpenAI-compatible endpoints, ``/v1/me`` and quotas, admin, reports."""
