"""The steps of a request, in order: authenticate, place, bound, reserve, scan, price."""
