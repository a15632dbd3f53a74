"""Integration fixtures: one emulator process per test session, clients built the way users build them."""

from __future__ import annotations

import pytest

from tests.emulator_process import start_emulator
from tests.integration import clients
from tests.integration.emulator.wire import EmulatorLog


@pytest.fixture(scope="session")
def emulator(tmp_path_factory):
    running = start_emulator(tmp_path_factory.mktemp("emulator"), speed=600)
    yield running
    running.stop()


@pytest.fixture(scope="session")
def info(emulator) -> dict:
    return emulator.info


@pytest.fixture
def control(info):
    """The control endpoint; faults and duration overrides are cleared after each test."""
    session = clients.control_session(info)
    yield session
    session.delete("/faults")
    session.delete("/durations")


@pytest.fixture(scope="session")
def credential(info):
    return clients.credential(info)


@pytest.fixture(scope="session")
def compute(info, credential):
    with clients.compute(info, credential) as client:
        yield client


@pytest.fixture(scope="session")
def batch(info, credential):
    with clients.batch(info, credential) as client:
        yield client


@pytest.fixture
def emulator_log(emulator):
    """What the session emulator logs from the start of the test on (``.assert_clean()``, ``.new_text()``)."""
    return EmulatorLog(emulator.log_path).mark()
