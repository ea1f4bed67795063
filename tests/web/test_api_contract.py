"""The JSON API against its own OpenAPI document (design §7, issue 10 "Done means"): schemathesis generates
requests for every operation of `/api/v1/openapi.json`, sent in-process through ASGI with a valid bearer token
(a member's, then a staff user's) and without one, over a store holding real-looking notices and interests: no
generated request gets a 500. The example count is kept modest so that the whole runs in well under a minute."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from consortium.interests import record_interest
from crawlers.store.procedures import link_procedures
from pib.web.app import create_app
from pib.web.auth import add_staff, create_api_token
from tests.notifications.helpers import add_firm, add_notice

FIRM = "École Numérique SA"
ADDRESS = "direction@ecole-numerique.example"
OTHER = "offres@electro-wallonie.example"
STAFF = "équipe@cluster.example"
KNOWN = {"source": ["boamp", "ted"], "source_id": ["26-0001", "123456-2026", "26-0002"]}
"""Identifiers of the notices the store holds, mixed into the generated requests."""


def operations(schema: Any) -> list[Any]:
    return [result.ok() for result in schema.get_all_operations()]


def probe(operation: Any, headers: dict[str, str], examples: int) -> list[str]:
    """Generated requests to one operation; those that got a 500, one line each."""
    failures: list[str] = []

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
    )
    @given(case=operation.as_strategy(), data=st.data())
    def send(case: Any, data: st.DataObject) -> None:
        if data.draw(st.booleans()):  # half the requests name what the store holds, to reach past the 404s
            for name in case.path_parameters or {}:
                if name in KNOWN:
                    case.path_parameters[name] = data.draw(st.sampled_from(KNOWN[name]))
            if isinstance(case.body, dict) and "source_id" in case.body:
                case.body["source_id"] = data.draw(st.sampled_from(KNOWN["source_id"]))
        response = case.call(headers=headers)
        if response.status_code >= 500:
            failures.append(f"{operation.label}: {case.as_curl_command()} -> {response.status_code}")

    send()
    return failures


def run(schema: Any, headers: dict[str, str], examples: int) -> list[str]:
    """Every operation with generated requests; the requests that got a 500, one line each."""
    failures: list[str] = []
    for operation in operations(schema):
        failures += probe(operation, headers, examples)
    return failures


@pytest.fixture
def api(engine: Engine, settings_env: None) -> Callable[[], Any]:
    """The portal over a store with notices (one linked to its TED twin), two firms, interests and tokens."""
    firm = add_firm(engine, name=FIRM, users=[(ADDRESS, "fr")])
    other = add_firm(engine, name="Électro Wallonie SRL", users=[(OTHER, "nl")])
    add_notice(engine, source_id="26-0001")
    add_notice(engine, source="ted", source_id="123456-2026", title="Développement d'un logiciel de gestion")
    add_notice(engine, source_id="26-0002", title="Éclairage public; voirie, lot 2", deadline="2026-03-01")
    link_procedures(engine)
    record_interest(engine, member_id=firm.member_id, tender="26-0001", lots=["1"], role="lead", seeks_partners=True)
    record_interest(engine, member_id=other.member_id, tender="26-0001", lots=[], role="partner")
    add_staff(engine, email=STAFF, language="fr")
    app = create_app(engine=engine)
    return lambda: schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)


def test_the_schema_covers_the_api_of_design_7(api: Callable[[], Any]) -> None:
    labels = {operation.label for operation in operations(api())}
    assert {"POST /api/v1/interests", "GET /api/v1/interests/{source_id}"} <= labels
    assert all(label.split(" ")[1].startswith("/api/v1/") for label in labels), labels


def test_no_generated_request_gets_a_500(api: Callable[[], Any], engine: Engine) -> None:
    member = create_api_token(engine, email=ADDRESS, name="contract")
    staff = create_api_token(engine, email=STAFF, name="contract")
    schema = api()
    failures = run(schema, {"Authorization": f"Bearer {member}"}, examples=30)
    failures += run(schema, {"Authorization": f"Bearer {staff}"}, examples=10)
    failures += run(schema, {}, examples=5)
    assert not failures, "\n".join(failures)
