"""The detection cache answers exactly like the detector and keeps no text."""

from __future__ import annotations

from policies.phi import CachingDetector, PhiDetector

TEXTS = [
    "Mme Jeanne DUPONT, née le 12/03/1956, NIR 2 56 03 75 112 004 60.",
    "HbA1c 7,2 %, créatinine 85 µmol/L.",
    "Bonjour",
]


def test_cached_answers_equal_the_detector_and_no_text_is_kept() -> None:
    detector = PhiDetector()
    cached = CachingDetector(detector, max_entries=2)
    for _ in range(3):
        for text in TEXTS:
            assert cached.detect(text) == detector.detect(text)
    kept = repr(vars(cached))
    assert all(text not in kept for text in TEXTS)
    assert len(cached._entries) == 2  # bounded: the oldest entry was evicted
