"""Stored quota limits: the repository, the quota tree nodes, the ceilings."""
