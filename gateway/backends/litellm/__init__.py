"""External providers reached through litellm: request, reply, stream, tokens, errors."""
