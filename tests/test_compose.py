"""docker-compose.yml is a valid Compose file with the settings the design relies on; the image pins torch.

tests/compose_spec.json is the Compose specification's JSON schema as shipped in the docker-compose 1.29.2
package on PyPI (compose/config/compose_spec.json, Apache-2.0), vendored so the test needs no network.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from grader.config import Config

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((Path(__file__).with_name("compose_spec.json")).read_text())


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_the_compose_file_validates_against_the_compose_schema(compose):
    validator = jsonschema.Draft201909Validator(SCHEMA)  # the draft its $schema names
    errors = sorted(validator.iter_errors(compose), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors)


def test_the_schema_catches_a_broken_compose_file(compose):
    broken = {**compose, "services": {**compose["services"], "web": {**compose["services"]["web"], "restart_after": 1}}}
    validator = jsonschema.Draft201909Validator(SCHEMA)  # the draft its $schema names
    assert list(validator.iter_errors(broken))


def test_every_role_of_the_service_is_there_with_health_checks(compose):
    services = compose["services"]
    assert {"postgres", "redis", "web", "worker", "reaper", "migrate"} <= set(services)
    for name in ("postgres", "redis", "web", "worker"):
        assert "healthcheck" in services[name], name
    assert "gunicorn" in services["web"]["command"]
    assert services["worker"]["command"][:2] == ["grader", "worker"]
    assert services["reaper"]["command"] == ["grader", "reaper"]
    assert "container_name" not in services["worker"]  # `--scale worker=N` needs unnamed containers
    assert {"pgdata", "redisdata"} <= set(compose["volumes"])


def test_redis_never_evicts_queued_tasks(compose):
    command = compose["services"]["redis"]["command"]
    assert command[command.index("--maxmemory-policy") + 1] == "noeviction"


def test_the_worker_may_create_the_sandbox_namespaces_without_being_privileged(compose):
    worker = compose["services"]["worker"]
    assert {"seccomp=unconfined", "apparmor=unconfined", "systempaths=unconfined"} <= set(worker["security_opt"])
    assert not worker.get("privileged")


def test_secrets_come_from_the_environment_and_production_settings_are_valid(compose):
    env = compose["services"]["web"]["environment"]
    assert env["GRADER_ENV"] == "production"
    assert re.fullmatch(r"\$\{GRADER_SECRET_KEY:\?[^}]*\}", env["GRADER_SECRET_KEY"])
    assert "${POSTGRES_PASSWORD:?" in env["GRADER_DATABASE_URL"]
    resolved = {k: v.replace("${GRADER_SECRET_KEY:?set GRADER_SECRET_KEY}", "k" * 64) for k, v in env.items()}
    Config.from_env(resolved).require_secret_key()


def test_the_image_pins_torch_exactly():
    dockerfile = (ROOT / "Dockerfile").read_text()
    requirements = re.findall(r"\btorch\s*[=<>~!]=*\s*[\w.+]+", dockerfile)
    assert requirements and set(requirements) == {"torch==2.13.0"}, requirements
    assert not re.search(r"pip install[^\n]*\btorch\b(?!==2\.13\.0)", dockerfile)
    assert re.search(r"pip install[^\n]*torch==2\.13\.0", dockerfile)
    assert "PIP_CONSTRAINT" in dockerfile


def test_the_image_compiles_the_translations():
    """Catalogs are committed as .po and compiled at install; an image without the .mo files speaks only English."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    copy = dockerfile.index("COPY grader grader")
    compile_step = re.search(r"pybabel\s+(?:-q\s+)?compile\s+-d\s+grader/translations", dockerfile)
    assert compile_step and compile_step.start() > copy
