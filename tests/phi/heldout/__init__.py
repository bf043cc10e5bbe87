"""A held-out labelled corpus for the identifier detector, independent of its own generator.

Written without looking at the detector or at the first corpus' generator, so that its scores
say how the detector does on text it was not tuned on. Do not tune the detector on it: read only
the aggregate table (python -m tests.phi.heldout), never the individual misses.
"""
