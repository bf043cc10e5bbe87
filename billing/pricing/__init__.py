"""Prices and costs: price book, FX, GPU pools, token estimates, true-up."""
