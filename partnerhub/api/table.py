"""The operation table of docs/api.md, generated from the OpenAPI document (a test keeps it current)."""

from __future__ import annotations

from partnerhub.api.urls import api

BEGIN = "<!-- operations:begin -->"
END = "<!-- operations:end -->"


def operations_markdown() -> str:
    schema = api.get_openapi_schema()
    rows = ["| method | path | x-permission | what |", "|---|---|---|---|"]
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            rule = operation.get("x-permission", "")
            if operation.get("x-organisation") == "operator":
                rule += " (operator)"
            rows.append(f"| {method.upper()} | `{path}` | `{rule}` | {operation.get('summary', '')} |")
    return "\n".join(rows) + "\n"


def with_operations(document: str) -> str:
    """`document` with the text between the markers replaced by the current table."""
    head, _, rest = document.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n{operations_markdown()}{END}{tail}"
