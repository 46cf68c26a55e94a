"""Fixtures shared by tests/unit and tests/e2e."""

import pytest

from wheel_support import InstalledWheel, build_and_install


@pytest.fixture(scope="session")
def installed_wheel(tmp_path_factory) -> InstalledWheel:
    """svc-conformance built as a wheel and installed into a fresh virtualenv (wheel_support)."""
    return build_and_install(tmp_path_factory.mktemp("wheel"))
