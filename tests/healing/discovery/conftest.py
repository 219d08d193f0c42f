"""The discovery tests' fake candidate APIs (one server per module) and the setting that lets
discovery probe 127.0.0.1 (production refuses loopback targets)."""

import pytest

from .fake_candidates import CandidateServer


@pytest.fixture(scope="module")
def candidate_server():
    server = CandidateServer().start()
    yield server
    server.stop()


@pytest.fixture
def fake_apis(candidate_server):
    candidate_server.reset()
    return candidate_server


@pytest.fixture
def allow_loopback(settings):
    settings.CRYPTOHUB_DISCOVERY_ALLOW_PRIVATE = True
