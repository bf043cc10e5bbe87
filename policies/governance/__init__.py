"""Governance of AI uses: the register's vocabulary and the admission rule (no DB, no web)."""
