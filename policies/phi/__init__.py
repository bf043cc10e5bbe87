"""Detection of protected health information (PHI) in French and English clinical text.

``detect(text)`` returns identifier spans with the default configuration; build a
``PhiDetector(DetectorConfig(...))`` for a hospital's own number formats and allowlist.
Pure Python, no network, no web layer.
"""

from __future__ import annotations

from .cache import CachingDetector
from .config import DetectorConfig, InstitutionalAllowlist
from .detector import PhiDetector, default_detector, detect
from .kinds import ALL_KINDS, PhiKind
from .scan import scan_jsonl, summarise

__all__ = [
    "ALL_KINDS",
    "CachingDetector",
    "DetectorConfig",
    "InstitutionalAllowlist",
    "PhiDetector",
    "PhiKind",
    "default_detector",
    "detect",
    "scan_jsonl",
    "summarise",
]
