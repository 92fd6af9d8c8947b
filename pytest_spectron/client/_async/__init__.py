"""The asynchronous client: the source the sync client is generated from."""
