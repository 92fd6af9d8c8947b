"""Facts every layer reads: the endpoint rule, the version, the defaults and argument checks.

Import-light and framework-free: nothing here imports httpx, pydantic, pytest or another
``pytest_spectron`` package, so the client, the testing side and the plugin can all build on it.
"""
