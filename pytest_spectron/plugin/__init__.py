"""The pytest plugin (the ``pytest11`` entry point): hooks, options, markers, fixtures, reports.

pytest finds the hooks and fixtures by name on this module; the work lives in
``pytest_spectron.testing``, and nothing of it loads until a test uses a fixture or a marker.
"""

from pytest_spectron.plugin._fixtures import (
    async_spectron,
    spectron,
    spectron_case,
    spectron_clock,
    spectron_mock,
    spectron_server,
)
from pytest_spectron.plugin._hooks import (
    pytest_addoption,
    pytest_collection_modifyitems,
    pytest_configure,
    pytest_generate_tests,
    pytest_report_header,
    pytest_runtest_call,
    pytest_runtest_makereport,
    pytest_runtest_setup,
    pytest_runtest_teardown,
    pytest_runtestloop,
)

__all__ = [
    "async_spectron",
    "pytest_addoption",
    "pytest_collection_modifyitems",
    "pytest_configure",
    "pytest_generate_tests",
    "pytest_report_header",
    "pytest_runtest_call",
    "pytest_runtest_makereport",
    "pytest_runtest_setup",
    "pytest_runtest_teardown",
    "pytest_runtestloop",
    "spectron",
    "spectron_case",
    "spectron_clock",
    "spectron_mock",
    "spectron_server",
]
