"""The running server against its own OpenAPI document, with schemathesis: requests generated from the document
(valid ones and invalid ones) over real HTTP with a real token. Every answer must be one the document describes
(status, content type, headers, body) and none may be a server error; invalid bodies must be refused."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance

from tests.api.conftest import Api


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_api_conforms_to_its_document(module_api: Api, mode: GenerationMode) -> None:
    schema = schemathesis.openapi.from_url(f"{module_api.base}/api/v1/openapi.json")
    headers = {"Authorization": f"Bearer {module_api.token}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert "POST /api/v1/kpis" in {op.label for op in operations}
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case: schemathesis.Case) -> None:
            # Schema-valid data may still be refused (422): a metric's unit or ratio, a string that is not a
            # number, a value repeated across items are facts of the workspace, not of the schema.
            case.call_and_validate(base_url=module_api.base, headers=headers, excluded_checks=[positive_data_acceptance])

        run()
