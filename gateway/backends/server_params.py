"""Request parameters that act on the model server itself rather than on one answer.

vLLM accepts, on its OpenAI-compatible endpoints, extras that change how the *server* behaves:
the Jinja chat template it renders (``chat_template``, ``chat_template_kwargs``), Python classes
it imports and runs (``logits_processors``, and ``vllm_xargs`` that feed them), KV-cache transfer
between servers (``kv_transfer_params``), the scheduling order of every tenant
(``priority``), its own request ids (``request_id``) and the media pre-processing
(``mm_processor_kwargs``, ``media_io_kwargs``), or tensors it deserialises
(``prompt_embeds``, the subject of CVE-2025-62164). A hospital's staff have no business setting
these, so they are removed from the body before it is forwarded, unless the deployment lists
them in ``allowed_params``. Sampling and decoding extras (``top_k``, ``guided_*``,
``structured_outputs``, ``min_tokens``...) are answer-level and pass untouched.

Removal is silent for the answer (clients keep working, as with OpenAI's own unknown-field
policy) but visible: the response carries ``x-hygie-dropped-params`` and a log line names them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

SERVER_SIDE_PARAMS = frozenset(
    {
        "chat_template",
        "chat_template_kwargs",
        "logits_processors",
        "vllm_xargs",
        "kv_transfer_params",
        "priority",
        "request_id",
        "mm_processor_kwargs",
        "media_io_kwargs",
        "prompt_embeds",
    }
)

DROPPED_PARAMS_HEADER = "x-hygie-dropped-params"


def params_to_drop(body: Mapping[str, Any], allowed: Iterable[str]) -> tuple[str, ...]:
    """The server-side parameters of ``body`` that ``allowed`` does not let through, sorted."""
    present = SERVER_SIDE_PARAMS.intersection(body)
    return tuple(sorted(present.difference(allowed))) if present else ()
