"""GitHub's own descriptions of the REST operations the bot calls, read from
`shared/github/openapi/<group>/<operation>.json` (OpenAPI 3.0.3, 2022-07-18 copy), and
turned into JSON Schema so request bodies and the fake's answers can be checked with
`jsonschema`.

Also formats schema failures the way api.github.com words them (`Invalid request.` plus
one line per problem), from real answers quoted in public issues:
- "No more than 50 items are allowed; 51 were supplied." (dorny/test-reporter#194)
- "\"annotation_level\", \"path\" weren't supplied." (humanmade/linter-bot#71)
Other wordings are ours; tests must not depend on them.
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError

#: GitHub's own data, vendored under tests/data/github (its README says where each part
#: comes from and under which licence), so a fresh clone tests with nothing beside it.
SHARED_GITHUB = Path(__file__).resolve().parents[1] / "data" / "github"
OPENAPI_DIR = SHARED_GITHUB / "openapi"

#: (method, openapi path) -> operation id, from openapi/_index.json.
OPERATIONS: dict[tuple[str, str], str] = {
    (op["method"], op["path"]): name
    for name, op in json.loads((OPENAPI_DIR / "_index.json").read_text())["operations"].items()
}


@functools.cache
def operation(name: str) -> dict[str, Any]:
    """The dereferenced operation `name` (e.g. "checks/create")."""
    return json.loads((OPENAPI_DIR / f"{name}.json").read_text())


def to_json_schema(schema: Any) -> Any:
    """OpenAPI 3.0 schema -> JSON Schema: `nullable: true` becomes a `null` type.

    Without this, jsonschema would reject the `null`s GitHub really sends (e.g. a blob's
    `size`, a review comment's `start_line`).
    """
    if isinstance(schema, list):
        return [to_json_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: to_json_schema(value) for key, value in schema.items()
           if key not in ("nullable", "example", "examples")}
    if schema.get("nullable"):
        kind = out.get("type")
        if isinstance(kind, str):
            out["type"] = [kind, "null"]
        if "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
        if "type" not in out:  # allOf/oneOf wrappers: allow null beside them
            out = {"anyOf": [out, {"type": "null"}]}
    return out


@functools.cache
def request_validator(name: str) -> Draft7Validator | None:
    """A validator for the operation's JSON request body, or None if it takes none."""
    body = operation(name).get("requestBody")
    if not body:
        return None
    schema = to_json_schema(copy.deepcopy(body["content"]["application/json"]["schema"]))
    return Draft7Validator(schema)


def request_body_required(name: str) -> bool:
    return bool(operation(name).get("requestBody", {}).get("required"))


@functools.cache
def response_validator(name: str, status: int, media_type: str = "application/json",
                       ) -> Draft7Validator:
    """A validator for the operation's documented answer (used by the fake's own tests)."""
    content = operation(name)["responses"][str(status)]["content"][media_type]
    return Draft7Validator(to_json_schema(copy.deepcopy(content["schema"])))


def github_problems(validator: Draft7Validator, body: Any) -> list[str]:
    """Every schema problem in `body`, one line each, in GitHub's words where known."""
    return [_describe(error) for error in
            sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))]


def _describe(error: ValidationError) -> str:
    if error.validator in ("oneOf", "anyOf"):
        # checks/create|update: status=completed requires conclusion (a oneOf/anyOf branch)
        required = [sub for sub in error.context or () if sub.validator == "required"]
        if required:
            return _describe(required[0])
    if error.validator == "required":
        present = error.instance if isinstance(error.instance, dict) else {}
        wanted = error.validator_value if isinstance(error.validator_value, list) else []
        missing = [name for name in wanted if name not in present]
        names = ", ".join(f'"{name}"' for name in missing)
        return f"{names} {'wasn' if len(missing) == 1 else 'weren'}'t supplied."
    if error.validator == "maxItems":
        return (f"No more than {error.validator_value} items are allowed; "
                f"{len(error.instance) if isinstance(error.instance, list) else 0} were supplied.")
    where = "/".join(str(part) for part in error.absolute_path) or "body"
    return f"For 'properties/{where}', {json.dumps(error.instance)[:200]} is not valid: " \
           f"{error.message[:300]}"
