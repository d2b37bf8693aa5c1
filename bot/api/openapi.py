"""The HTTP API's OpenAPI 3 document, served at GET /api/v1/openapi.json (the tests run schemathesis against it)."""

from __future__ import annotations

from typing import Any

MAX_ITEMS = 5_000
MAX_VALUES = 100
#: a larger body is refused unread
MAX_BODY_BYTES = 4_000_000

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "string"}},
}

_REASON = {
    "type": "object",
    "required": ["item", "field", "reason"],
    "properties": {
        "item": {"type": ["integer", "null"], "description": "index of the item in `items` (null: the whole body)"},
        "field": {"type": "string", "description": "e.g. `date`, `channel`, `values.gmv`"},
        "reason": {"type": "string"},
    },
}


def _response(description: str, schema: dict[str, Any], headers: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        out["headers"] = headers
    return out


DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "mktbot API",
        "version": "1",
        "description": (
            "KPI values for one workspace, for automation. Each value is stored by `/kpi log`'s rule: one value "
            "per metric, channel and day, a new one replacing the old, so sending the same batch again changes "
            "nothing. A batch is written whole or not at all: one refused item refuses the batch (422, with a "
            "reason per item)."
        ),
    },
    "servers": [{"url": "/"}],
    "security": [{"bearer": []}],
    "paths": {
        "/api/v1/kpis": {
            "post": {
                "operationId": "logKpis",
                "summary": "Log KPI values (idempotent: values replace what is stored for the same metric, channel and day)",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Batch"}}},
                },
                "responses": {
                    "200": _response("The batch is stored", {"$ref": "#/components/schemas/Result"}),
                    "400": _response("The body is not a JSON object", _ERROR),
                    "401": _response("No token, or a token that is unknown or revoked", _ERROR, {
                        "WWW-Authenticate": {"schema": {"type": "string"}},
                    }),
                    "413": _response(f"The body is larger than {MAX_BODY_BYTES:,} bytes", _ERROR),
                    "415": _response("The body is not application/json", _ERROR),
                    "422": _response("Some items were refused; nothing of the batch was written", {
                        "type": "object",
                        "required": ["error", "errors"],
                        "properties": {"error": {"type": "string"}, "errors": {"type": "array", "items": _REASON}},
                    }),
                },
            }
        },
        "/api/v1/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This document",
                "security": [],
                "responses": {"200": _response("The OpenAPI document", {"type": "object"})},
            }
        },
    },
    "components": {
        "securitySchemes": {
            "bearer": {
                "type": "http",
                "scheme": "bearer",
                "description": "A workspace's token (`mkt_…`), made with `mktbot api-token new --workspace T…`",
            }
        },
        "schemas": {
            "Batch": {
                "type": "object",
                "required": ["items"],
                "additionalProperties": False,
                "properties": {
                    "items": {
                        "type": "array", "minItems": 1, "maxItems": MAX_ITEMS,
                        "items": {"$ref": "#/components/schemas/Item"},
                    }
                },
            },
            "Item": {
                "type": "object",
                "required": ["date", "values"],
                "additionalProperties": False,
                "properties": {
                    "date": {"type": "string", "format": "date", "description": "the day, YYYY-MM-DD"},
                    "channel": {
                        "type": "string", "maxLength": 100,
                        "description": "matched case-insensitively; the first spelling stored is kept (default: none)",
                    },
                    "values": {
                        "type": "object", "minProperties": 1, "maxProperties": MAX_VALUES,
                        "propertyNames": {"minLength": 1, "maxLength": 100},
                        "additionalProperties": {"$ref": "#/components/schemas/Value"},
                        "description": "metric name -> value; an unknown metric is created",
                    },
                },
            },
            "Value": {
                "oneOf": [
                    {"type": "number"},
                    {"type": "string", "description": "as typed in /kpi log: `12500`, `12,500`, `1.2万`, `¥12,500`, `15.3%`"},
                ],
                "description": (
                    "a bare number on a % metric is percentage points (21 is 21 %, stored as 0.21), as in /kpi log"
                ),
            },
            "Result": {
                "type": "object",
                "required": ["values", "inserted", "replaced", "unchanged", "metrics_created"],
                "properties": {
                    "values": {"type": "integer"},
                    "inserted": {"type": "integer"},
                    "replaced": {"type": "integer"},
                    "unchanged": {"type": "integer"},
                    "metrics_created": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    },
}
