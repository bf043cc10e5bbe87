"""Monitoring of deployed AI: each use case's behaviour over time, and drift alerts."""
