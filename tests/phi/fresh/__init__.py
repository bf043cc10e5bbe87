"""A fresh development corpus, written without looking at the detector or its other corpora."""
