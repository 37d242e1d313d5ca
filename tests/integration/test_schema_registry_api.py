"""The Confluent schema-registry REST surface, as raw HTTP against a real hub over mTLS: the request shapes
stock clients send (vendor content type, capitalised booleans, percent-encoded subjects) and Confluent's
exact status and error codes. Subjects are unique per test, and only subject-level modes and levels are
changed, because the hub is shared with other tests running in parallel."""

import json
import random
import ssl
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest

from tests.conftest import RunningBroker, RunningHub

VENDOR_JSON = "application/vnd.schemaregistry.v1+json"
CLIENT_ACCEPT = f"{VENDOR_JSON}, application/vnd.schemaregistry+json, application/json"


@pytest.fixture
def hub(shared_hub: RunningHub, shared_broker: RunningBroker) -> Iterator[httpx.Client]:
    """An HTTP client with the hub admin's certificate, sending the headers the Confluent client sends."""
    context = ssl.create_default_context(cafile=str(shared_hub.ca_file))
    admin = shared_broker.admin_connection
    context.load_cert_chain(str(admin.certificate_file), str(admin.key_file))
    headers = {"Accept": CLIENT_ACCEPT, "Confluent-Client-Version": "python/2.16.1"}
    with httpx.Client(base_url=shared_hub.base_url, verify=context, timeout=15.0, headers=headers) as client:
        yield client


@pytest.fixture
def subject() -> str:
    return f"api-{uuid.uuid4().hex[:12]}-value"


def _path(subject: str) -> str:
    """As the Confluent client quotes path parameters: `urllib.parse.quote(value, safe='')`."""
    return quote(subject, safe="")


def _record(*fields: dict[str, object], name: str | None = None) -> str:
    """Schema text of a record whose name is unique to the test, so its id is not shared with other tests."""
    record_name = name or f"R{uuid.uuid4().hex[:12]}"
    return json.dumps({"type": "record", "name": record_name, "fields": list(fields)})


ID_FIELD = {"name": "id", "type": "string"}
CHANNEL_FIELD = {"name": "channel", "type": "string", "default": "web"}


def _post(client: httpx.Client, url: str, body: dict[str, object], **params: str) -> httpx.Response:
    """A POST or lookup as the Confluent client sends it: JSON under the vendor content type."""
    return client.post(
        url,
        content=json.dumps(body),
        params=params,
        headers={"Content-Type": VENDOR_JSON, "Confluent-Accept-Unknown-Properties": "true"},
    )


def _put(client: httpx.Client, url: str, body: dict[str, object]) -> httpx.Response:
    return client.put(url, content=json.dumps(body), headers={"Content-Type": VENDOR_JSON})


def _register(client: httpx.Client, subject: str, text: str, **params: str) -> int:
    response = _post(client, f"/subjects/{_path(subject)}/versions", {"schema": text}, **params)
    assert response.status_code == 200, response.text
    schema_id: int = response.json()["id"]
    return schema_id


def _ok(response: httpx.Response) -> object:
    assert response.status_code == 200, response.text
    return response.json()


def _assert_error(response: httpx.Response, status_code: int, error_code: int, *fragments: str) -> None:
    assert response.status_code == status_code, response.text
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body = response.json()
    assert body["error_code"] == error_code, body
    for fragment in fragments:
        assert fragment in body["message"], body["message"]


# -- transport: what stock clients send --------------------------------------------------------------


def test_vendor_content_type_request_bodies_are_accepted(hub: httpx.Client, subject: str) -> None:
    text = _record(ID_FIELD)
    registered = _post(hub, f"/subjects/{_path(subject)}/versions", {"schema": text, "schemaType": "AVRO"})
    assert registered.status_code == 200, registered.text
    schema_id = registered.json()["id"]

    found = _ok(_post(hub, f"/subjects/{_path(subject)}", {"schema": text}))
    assert {key: found[key] for key in ("subject", "version", "id", "schemaType", "deleted")} == {  # type: ignore[index]
        "subject": subject,
        "version": 1,
        "id": schema_id,
        "schemaType": "AVRO",
        "deleted": False,
    }
    assert json.loads(found["schema"]) == json.loads(text)  # type: ignore[index]
    assert _ok(_put(hub, f"/config/{_path(subject)}", {"compatibility": "FULL"})) == {"compatibility": "FULL"}
    verdict = _post(hub, f"/compatibility/subjects/{_path(subject)}/versions/latest", {"schema": text})
    assert _ok(verdict) == {"is_compatible": True}


def test_query_booleans_are_read_in_any_case(hub: httpx.Client, subject: str) -> None:
    name = f"R{uuid.uuid4().hex[:12]}"
    _register(hub, subject, _record(ID_FIELD, name=name), normalize="False")
    _register(hub, subject, _record(ID_FIELD, CHANNEL_FIELD, name=name), normalize="FALSE")
    assert _ok(hub.delete(f"/subjects/{_path(subject)}/versions/1", params={"permanent": "False"})) == 1

    versions = f"/subjects/{_path(subject)}/versions"
    assert _ok(hub.get(versions, params={"deleted": "True"})) == [1, 2]
    assert _ok(hub.get(versions, params={"deleted": "TRUE"})) == [1, 2]
    assert _ok(hub.get(versions, params={"deleted": "false"})) == [2]
    assert _ok(hub.get(f"/subjects/{_path(subject)}/versions/1", params={"deleted": "True"}))["deleted"] is True  # type: ignore[index]
    assert subject in _ok(hub.get("/subjects", params={"deleted": "True"}))  # type: ignore[operator]

    breaking = _record(ID_FIELD, {"name": "country", "type": "string"}, name=name)
    verdict = _post(
        hub, f"/compatibility/subjects/{_path(subject)}/versions/latest", {"schema": breaking}, verbose="True"
    )
    body = _ok(verdict)
    assert body["is_compatible"] is False and any("country" in message for message in body["messages"])  # type: ignore[index]

    assert _ok(hub.delete(f"/subjects/{_path(subject)}/versions/1", params={"permanent": "TRUE"})) == 1
    assert _ok(hub.get(versions, params={"deleted": "True"})) == [2]


def test_subject_with_a_slash_round_trips_percent_encoded(hub: httpx.Client) -> None:
    subject = f"team/{uuid.uuid4().hex[:12]}/orders-value"
    encoded = _path(subject)
    assert "%2F" in encoded
    schema_id = _register(hub, subject, _record(ID_FIELD))

    assert subject in _ok(hub.get("/subjects"))  # type: ignore[operator]
    response = hub.get(f"/subjects/{encoded}/versions/latest")
    assert response.request.url.raw_path == f"/subjects/{encoded}/versions/latest".encode()
    latest = _ok(response)
    assert (latest["subject"], latest["version"], latest["id"]) == (subject, 1, schema_id)  # type: ignore[index]
    assert _ok(hub.get(f"/schemas/ids/{schema_id}/subjects")) == [subject]
    assert _ok(_put(hub, f"/config/{encoded}", {"compatibility": "NONE"})) == {"compatibility": "NONE"}
    assert _ok(hub.get(f"/config/{encoded}")) == {"compatibilityLevel": "NONE"}
    assert _ok(hub.delete(f"/subjects/{encoded}")) == [1]
    assert _ok(hub.delete(f"/subjects/{encoded}", params={"permanent": "true"})) == [1]
    _assert_error(hub.get(f"/subjects/{encoded}/versions"), 404, 40401, f"Subject '{subject}' not found")


def test_subject_named_like_a_route_is_not_taken_for_another_subject(hub: httpx.Client) -> None:
    """`a%2Fversions%2F1` is the subject `a/versions/1`, not version 1 of subject `a`: Confluent routes on the
    encoded path, so a delete or a lookup must never land on another subject."""
    base = f"api-{uuid.uuid4().hex[:12]}"
    versioned, listing = f"{base}/versions/1", f"{base}/versions"
    base_id = _register(hub, base, _record(ID_FIELD))
    _register(hub, versioned, _record(ID_FIELD))

    assert _ok(hub.delete(f"/subjects/{_path(versioned)}")) == [1]
    _assert_error(hub.get(f"/subjects/{_path(versioned)}/versions"), 404, 40401, f"Subject '{versioned}' not found")
    assert _ok(hub.get(f"/subjects/{_path(base)}/versions")) == [1]

    lookup = _post(hub, f"/subjects/{_path(listing)}", {"schema": _record(ID_FIELD)})
    _assert_error(lookup, 404, 40401, f"Subject '{listing}' not found")
    assert _ok(hub.get(f"/subjects/{_path(base)}/versions")) == [1]
    assert _ok(hub.get(f"/subjects/{_path(base)}/versions/latest"))["id"] == base_id  # type: ignore[index]


def test_schema_types_are_avro_only(hub: httpx.Client) -> None:
    assert _ok(hub.get("/schemas/types")) == ["AVRO"]


def test_associations_answer_404_with_a_json_error_so_clients_fall_back_to_the_value_subject(
    hub: httpx.Client,
) -> None:
    topic = f"orders-{uuid.uuid4().hex[:8]}"
    response = hub.get(
        f"/associations/resources/-/{topic}", params={"resourceType": "topic", "associationType": "value"}
    )
    _assert_error(response, 404, 40410, f"No associations for resource -/{topic}", "<topic>-value")


# -- registration and ids ----------------------------------------------------------------------------


def test_register_answers_the_id_and_registering_again_adds_no_version(hub: httpx.Client, subject: str) -> None:
    text = _record(ID_FIELD)
    first = _post(hub, f"/subjects/{_path(subject)}/versions", {"schema": text})
    assert first.status_code == 200 and set(first.json()) == {"id"}, first.text

    # Whitespace and key order do not make another schema.
    respelled = json.dumps(json.loads(text), indent=4, sort_keys=True)
    assert _register(hub, subject, text) == first.json()["id"]
    assert _register(hub, subject, respelled) == first.json()["id"]
    assert _ok(hub.get(f"/subjects/{_path(subject)}/versions")) == [1]


def test_same_schema_under_two_subjects_gets_one_id(hub: httpx.Client) -> None:
    prefix = f"api-{uuid.uuid4().hex[:12]}"
    key, value = f"{prefix}-key", f"{prefix}-value"
    text = _record(ID_FIELD)
    schema_id = _register(hub, value, text)
    assert _register(hub, key, text) == schema_id

    assert _ok(hub.get(f"/schemas/ids/{schema_id}/versions")) == [
        {"subject": key, "version": 1},
        {"subject": value, "version": 1},
    ]
    assert _ok(hub.get(f"/schemas/ids/{schema_id}/subjects")) == [key, value]
    assert {key, value} <= set(_ok(hub.get("/subjects", params={"subjectPrefix": prefix})))  # type: ignore[arg-type]
    assert _ok(hub.get("/subjects", params={"subjectPrefix": prefix})) == [key, value]
    assert hub.get(f"/schemas/ids/{schema_id}/schema").text == hub.get(f"/subjects/{_path(key)}/versions/1/schema").text


def test_lookup_tells_an_unknown_subject_from_an_unknown_schema(hub: httpx.Client, subject: str) -> None:
    lookup = f"/subjects/{_path(subject)}"
    _assert_error(_post(hub, lookup, {"schema": _record(ID_FIELD)}), 404, 40401, f"Subject '{subject}' not found")

    schema_id = _register(hub, subject, _record(ID_FIELD))
    _assert_error(_post(hub, lookup, {"schema": _record(ID_FIELD)}), 404, 40403, "Schema not found")
    registered = _ok(_post(hub, lookup, {"schema": hub.get(f"/schemas/ids/{schema_id}/schema").text}))
    assert (registered["subject"], registered["version"], registered["id"]) == (subject, 1, schema_id)  # type: ignore[index]


def test_unknown_schema_id_is_40403(hub: httpx.Client) -> None:
    _assert_error(hub.get("/schemas/ids/2147483000"), 404, 40403, "Schema 2147483000 not found")


# -- versions ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["0", "-2", "abc", "2147483648"])
def test_invalid_version_ids_are_42202(hub: httpx.Client, subject: str, version: str) -> None:
    _register(hub, subject, _record(ID_FIELD))
    expected = f"The specified version '{version}' is not a valid version id"
    _assert_error(hub.get(f"/subjects/{_path(subject)}/versions/{version}"), 422, 42202, expected)
    _assert_error(hub.delete(f"/subjects/{_path(subject)}/versions/{version}"), 422, 42202, expected)


def test_unknown_version_is_40402_and_unknown_subject_40401(hub: httpx.Client, subject: str) -> None:
    _assert_error(hub.get(f"/subjects/{_path(subject)}/versions/1"), 404, 40401, f"Subject '{subject}' not found")
    _register(hub, subject, _record(ID_FIELD))
    _assert_error(hub.get(f"/subjects/{_path(subject)}/versions/2"), 404, 40402, "Version 2 not found")


def test_latest_and_minus_one_name_the_newest_version(hub: httpx.Client, subject: str) -> None:
    name = f"R{uuid.uuid4().hex[:12]}"
    _register(hub, subject, _record(ID_FIELD, name=name))
    newest_id = _register(hub, subject, _record(ID_FIELD, CHANNEL_FIELD, name=name))

    for alias in ("latest", "-1"):
        newest = _ok(hub.get(f"/subjects/{_path(subject)}/versions/{alias}"))
        assert (newest["version"], newest["id"]) == (2, newest_id), alias  # type: ignore[index]
        raw = hub.get(f"/subjects/{_path(subject)}/versions/{alias}/schema")
        assert raw.status_code == 200 and json.loads(raw.text)["fields"][-1]["name"] == "channel"


# -- compatibility levels and modes (subject level only: the hub is shared) --------------------------


def test_subject_level_config_is_40408_until_set_and_default_to_global_gives_the_global_level(
    hub: httpx.Client, subject: str
) -> None:
    config = f"/config/{_path(subject)}"
    global_level = _ok(hub.get("/config"))
    _assert_error(hub.get(config), 404, 40408, f"Subject '{subject}' does not have subject-level compatibility")
    assert _ok(hub.get(config, params={"defaultToGlobal": "true"})) == global_level

    assert _ok(_put(hub, config, {"compatibility": "full_transitive"})) == {"compatibility": "FULL_TRANSITIVE"}
    assert _ok(hub.get(config)) == {"compatibilityLevel": "FULL_TRANSITIVE"}
    assert _ok(hub.get(config, params={"defaultToGlobal": "True"})) == {"compatibilityLevel": "FULL_TRANSITIVE"}
    assert _ok(hub.delete(config)) == {"compatibilityLevel": "FULL_TRANSITIVE"}
    _assert_error(hub.get(config), 404, 40408, "subject-level compatibility")


def test_invalid_compatibility_level_is_42203(hub: httpx.Client, subject: str) -> None:
    global_level = _ok(hub.get("/config"))
    message = "Invalid compatibility level. Valid values are none, backward, forward, full"
    _assert_error(_put(hub, "/config", {"compatibility": "SIDEWAYS"}), 422, 42203, message)
    _assert_error(_put(hub, f"/config/{_path(subject)}", {"compatibility": "SIDEWAYS"}), 422, 42203, message)
    assert _ok(hub.get("/config")) == global_level


def test_invalid_mode_is_42204(hub: httpx.Client, subject: str) -> None:
    global_mode = _ok(hub.get("/mode"))
    _assert_error(_put(hub, "/mode", {"mode": "SIDEWAYS"}), 422, 42204, "Invalid mode 'SIDEWAYS'", "READWRITE")
    _assert_error(_put(hub, f"/mode/{_path(subject)}", {"mode": "SIDEWAYS"}), 422, 42204, "Invalid mode 'SIDEWAYS'")
    assert _ok(hub.get("/mode")) == global_mode


def test_readonly_subject_refuses_writes_with_42205_until_lifted(hub: httpx.Client, subject: str) -> None:
    name = f"R{uuid.uuid4().hex[:12]}"
    _register(hub, subject, _record(ID_FIELD, name=name))
    mode = f"/mode/{_path(subject)}"
    _assert_error(hub.get(mode), 404, 40409, f"Subject '{subject}' does not have subject-level mode")
    try:
        assert _ok(_put(hub, mode, {"mode": "READONLY"})) == {"mode": "READONLY"}
        assert _ok(hub.get(mode)) == {"mode": "READONLY"}
        refused = _post(
            hub, f"/subjects/{_path(subject)}/versions", {"schema": _record(ID_FIELD, CHANNEL_FIELD, name=name)}
        )
        _assert_error(refused, 422, 42205, f"Subject '{subject}' is in READONLY mode")
        _assert_error(hub.delete(f"/subjects/{_path(subject)}/versions/1"), 422, 42205, "READONLY")
    finally:
        lifted = _put(hub, mode, {"mode": "READWRITE"})
    assert _ok(lifted) == {"mode": "READWRITE"}
    _register(hub, subject, _record(ID_FIELD, CHANNEL_FIELD, name=name))
    assert _ok(hub.get(f"/subjects/{_path(subject)}/versions")) == [1, 2]
    assert _ok(hub.delete(mode)) == {"mode": "READWRITE"}


def test_import_mode_keeps_the_given_id_and_version(hub: httpx.Client, subject: str) -> None:
    # Far above the ids the shared hub hands out in a run, far below 2^31 so later ids still fit.
    schema_id = random.randrange(1_000_000, 9_000_000)
    text = _record(ID_FIELD)
    body: dict[str, object] = {"schema": text, "id": schema_id, "version": 5}
    refused = _post(hub, f"/subjects/{_path(subject)}/versions", body)
    _assert_error(refused, 422, 42205, "A schema id may be given only in IMPORT mode")

    mode = f"/mode/{_path(subject)}"
    try:
        assert _ok(_put(hub, mode, {"mode": "IMPORT"})) == {"mode": "IMPORT"}
        assert _ok(_post(hub, f"/subjects/{_path(subject)}/versions", body)) == {"id": schema_id}
    finally:
        hub.delete(mode)
    assert _ok(hub.get(f"/subjects/{_path(subject)}/versions")) == [5]
    stored = _ok(hub.get(f"/subjects/{_path(subject)}/versions/5"))
    assert (stored["id"], stored["version"]) == (schema_id, 5)  # type: ignore[index]
    assert json.loads(_ok(hub.get(f"/schemas/ids/{schema_id}"))["schema"]) == json.loads(text)  # type: ignore[index]


def test_import_mode_is_refused_on_a_subject_holding_versions_unless_forced(hub: httpx.Client, subject: str) -> None:
    _register(hub, subject, _record(ID_FIELD))
    mode = f"/mode/{_path(subject)}"
    _assert_error(_put(hub, mode, {"mode": "IMPORT"}), 422, 42205, "Cannot switch to IMPORT mode", "force=true")
    _assert_error(hub.get(mode), 404, 40409)
    try:
        forced = hub.put(
            mode,
            content=json.dumps({"mode": "import"}),
            params={"force": "True"},
            headers={"Content-Type": VENDOR_JSON},
        )
        assert _ok(forced) == {"mode": "IMPORT"}
    finally:
        hub.delete(mode)
    _assert_error(hub.get(mode), 404, 40409)


def test_normalize_makes_equivalent_spellings_share_one_id(hub: httpx.Client) -> None:
    prefix = f"api-{uuid.uuid4().hex[:12]}"
    name = f"R{uuid.uuid4().hex[:12]}"
    nested = _record({"name": "a", "type": {"type": "int"}}, name=name)
    plain = _record({"name": "a", "type": "int"}, name=name)

    normalized = f"{prefix}-normalized-value"
    schema_id = _register(hub, normalized, nested, normalize="true")
    assert _register(hub, normalized, plain, normalize="True") == schema_id
    assert _ok(hub.get(f"/subjects/{_path(normalized)}/versions")) == [1]

    verbatim = f"{prefix}-verbatim-value"
    nested_id = _register(hub, verbatim, nested)
    assert _register(hub, verbatim, plain) not in {nested_id, schema_id}
    assert _ok(hub.get(f"/subjects/{_path(verbatim)}/versions")) == [1, 2]


# -- request validation ------------------------------------------------------------------------------


def test_schema_references_are_refused_with_42201(hub: httpx.Client, subject: str) -> None:
    referenced = f"api-{uuid.uuid4().hex[:12]}-value"
    _register(hub, referenced, _record(ID_FIELD, name="Customer"))
    body = {
        "schema": _record({"name": "customer", "type": "Customer"}),
        "references": [{"name": "Customer", "subject": referenced, "version": 1}],
    }
    response = _post(hub, f"/subjects/{_path(subject)}/versions", body)
    _assert_error(response, 422, 42201, "Schema references are not supported", "inline the referenced named types")
    _assert_error(hub.get(f"/subjects/{_path(subject)}/versions"), 404, 40401)


def test_body_without_schema_is_a_422_json_error(hub: httpx.Client, subject: str) -> None:
    response = _post(hub, f"/subjects/{_path(subject)}/versions", {"schemaType": "AVRO"})
    _assert_error(response, 422, 42200, "Invalid request", "schema", "Field required")
    not_json = hub.post(
        f"/subjects/{_path(subject)}/versions", content=b'{"schema": ', headers={"Content-Type": VENDOR_JSON}
    )
    _assert_error(not_json, 422, 42200, "Invalid request", "JSON")


# -- deletes -----------------------------------------------------------------------------------------


def test_soft_deleted_versions_leave_listings_but_their_id_still_resolves(hub: httpx.Client, subject: str) -> None:
    name = f"R{uuid.uuid4().hex[:12]}"
    first_id = _register(hub, subject, _record(ID_FIELD, name=name))
    _register(hub, subject, _record(ID_FIELD, CHANNEL_FIELD, name=name))

    assert _ok(hub.delete(f"/subjects/{_path(subject)}/versions/1")) == 1
    assert _ok(hub.get(f"/subjects/{_path(subject)}/versions")) == [2]
    _assert_error(hub.get(f"/subjects/{_path(subject)}/versions/1"), 404, 40402, "Version 1 not found")
    assert _ok(hub.get(f"/schemas/ids/{first_id}"))["schemaType"] == "AVRO"  # type: ignore[index]
    assert _ok(hub.get(f"/schemas/ids/{first_id}/versions")) == []
    assert _ok(hub.get(f"/schemas/ids/{first_id}/versions", params={"deleted": "true"})) == [
        {"subject": subject, "version": 1}
    ]
    _assert_error(
        hub.delete(f"/subjects/{_path(subject)}/versions/1"),
        404,
        40406,
        f"Subject '{subject}' Version 1 was soft deleted.Set permanent=true to delete permanently",
    )

    assert _ok(hub.delete(f"/subjects/{_path(subject)}")) == [2]
    assert subject not in _ok(hub.get("/subjects"))  # type: ignore[operator]
    assert subject in _ok(hub.get("/subjects", params={"deleted": "true"}))  # type: ignore[operator]
    _assert_error(hub.get(f"/subjects/{_path(subject)}/versions"), 404, 40401, f"Subject '{subject}' not found")
    _assert_error(
        hub.delete(f"/subjects/{_path(subject)}"),
        404,
        40404,
        f"Subject '{subject}' was soft deleted.Set permanent=true to delete permanently",
    )
    assert _ok(hub.get(f"/schemas/ids/{first_id}"))["schemaType"] == "AVRO"  # type: ignore[index]


def test_permanent_delete_is_refused_until_after_a_soft_delete(hub: httpx.Client, subject: str) -> None:
    name = f"R{uuid.uuid4().hex[:12]}"
    _register(hub, subject, _record(ID_FIELD, name=name))
    _register(hub, subject, _record(ID_FIELD, CHANNEL_FIELD, name=name))
    version_1, whole = f"/subjects/{_path(subject)}/versions/1", f"/subjects/{_path(subject)}"
    permanent = {"permanent": "true"}

    _assert_error(
        hub.delete(version_1, params=permanent),
        404,
        40407,
        f"Subject '{subject}' Version 1 was not deleted first before being permanently deleted",
    )
    _assert_error(
        hub.delete(whole, params=permanent),
        404,
        40405,
        f"Subject '{subject}' was not deleted first before being permanently deleted",
    )
    assert _ok(hub.delete(version_1)) == 1
    assert _ok(hub.delete(version_1, params=permanent)) == 1
    _assert_error(hub.delete(version_1, params=permanent), 404, 40402, "Version 1 not found")
    assert _ok(hub.get(f"/subjects/{_path(subject)}/versions", params={"deleted": "true"})) == [2]

    assert _ok(hub.delete(whole)) == [2]
    assert _ok(hub.delete(whole, params=permanent)) == [2]
    assert subject not in _ok(hub.get("/subjects", params={"deleted": "true"}))  # type: ignore[operator]
    _assert_error(hub.delete(whole, params=permanent), 404, 40401, f"Subject '{subject}' not found")
