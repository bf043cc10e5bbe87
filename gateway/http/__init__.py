"""The HTTP edge: request ids, body reading, disconnects, SSE relay, error rendering, servers."""
