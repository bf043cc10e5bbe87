"""Choosing a deployment and replica, and keeping track of their health and load."""
