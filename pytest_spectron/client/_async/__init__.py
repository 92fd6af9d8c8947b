"""The asynchronous client: ``AsyncSpectron``, its namespaces and its chat stream."""
