"""Closing a month: frozen statements, true-ups and FOCUS rows, and later corrections."""
