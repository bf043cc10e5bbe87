"""A memory of recent detection results, keyed by a digest of the text (never the text).

Chat clients resend the whole conversation at every turn and applications reuse the same system
prompt, so most texts the gateway scans have been scanned moments before. Only a 16-byte BLAKE2b
digest of each text and the spans found in it are kept; the text itself is not.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

from policies.spans import Span

from .detector import PhiDetector


class CachingDetector:
    """Wraps a :class:`PhiDetector`; same answers, computed once per distinct text.

    Safe to share between threads (the gateway scans long texts on a worker thread): the
    memory is locked around each lookup and insertion, never around a scan.
    """

    def __init__(self, detector: PhiDetector, *, max_entries: int = 8192) -> None:
        # Even short texts are worth caching: a scan has a fixed cost of about 20 µs, a digest
        # about 1 µs.
        self._detector = detector
        self._max_entries = max_entries
        self._entries: OrderedDict[bytes, tuple[Span, ...]] = OrderedDict()
        self._lock = threading.Lock()

    def detect(self, text: str) -> list[Span]:
        """The spans of ``text``, as :meth:`PhiDetector.detect` returns them."""
        key = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()
        with self._lock:
            cached = self._entries.get(key)
            if cached is not None:
                self._entries.move_to_end(key)
                return list(cached)
        spans = self._detector.detect(text)
        with self._lock:
            self._entries[key] = tuple(spans)
            if len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)
        return spans
