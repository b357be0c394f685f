"""The OpenAPI document and the interactive docs are public and describe every error answer."""

from partnerhub.api.urls import api


def test_openapi_document_and_docs_are_public(client, db):
    document = client.get("/api/v1/openapi.json")
    assert document.status_code == 200
    assert document.json()["info"]["title"] == "Partnerhub API"
    assert client.get("/api/v1/docs").status_code == 200


def test_every_operation_documents_its_problem_answers():
    schema = api.get_openapi_schema()
    for path, item in schema["paths"].items():
        for method, op in item.items():
            rule = op["x-permission"]
            codes = {str(code) for code in op["responses"]}
            expected = {"422"} | ({"401", "403"} if rule != "public" else set())
            if "{org_slug}" in path:
                expected.add("404")
            if method != "get":
                expected |= {"400", "409"}
            assert expected <= codes, f"{method.upper()} {path}"
            for code in expected:
                content = op["responses"][int(code)]["content"]["application/problem+json"]["schema"]
                assert content == {"$ref": "#/components/schemas/Problem"}, f"{method.upper()} {path} {code}"


def test_operations_closed_to_api_keys_say_so():
    schema = api.get_openapi_schema()
    assert schema["paths"]["/api/v1/me"]["patch"]["x-api-keys"] is False
    assert schema["paths"]["/api/v1/orgs"]["post"]["x-api-keys"] is False
    assert "x-api-keys" not in schema["paths"]["/api/v1/orgs/{org_slug}/api-keys"]["post"]
