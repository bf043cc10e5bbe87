"""Clients for the servers that actually run the models."""
