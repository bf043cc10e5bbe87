"""The upstream kinds a request is forwarded to: vLLM pass-through and litellm providers."""
