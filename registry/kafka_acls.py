"""Broker ACLs for identities: what a producer and a consumer of a stream may do.

The broker authorises by principal `User:<identity>` (the certificate CN), with
`allow.everyone.if.no.acl.found=false`: an identity can do nothing it was not granted.
"""

import time
from collections.abc import Callable, Iterable

from confluent_kafka import KafkaException
from confluent_kafka.admin import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ResourcePatternType,
    ResourceType,
)

from headwater.registry.errors import RegistryError

ADMIN_TIMEOUT_S = 30.0


class AclChangeError(RegistryError):
    status_code = 502
    error_code = 50210


def principal(identity: str) -> str:
    return f"User:{identity}"


def consumer_group_prefix(identity: str) -> str:
    """Consumers may use any group named `<identity>.<anything>`; groups of others stay closed."""
    return f"{identity}."


def _allow(
    resource: ResourceType, name: str, pattern: ResourcePatternType, identity: str, operation: AclOperation
) -> AclBinding:
    return AclBinding(resource, name, pattern, principal(identity), "*", operation, AclPermissionType.ALLOW)


def producer_bindings(identity: str, topic: str) -> list[AclBinding]:
    """WRITE is enough for the idempotent producer too (InitProducerId accepts WRITE on any topic)."""
    return [
        _allow(ResourceType.TOPIC, topic, ResourcePatternType.LITERAL, identity, operation)
        for operation in (AclOperation.WRITE, AclOperation.DESCRIBE)
    ]


def consumer_topic_bindings(identity: str, topic: str) -> list[AclBinding]:
    """READ and DESCRIBE on one topic."""
    return [
        _allow(ResourceType.TOPIC, topic, ResourcePatternType.LITERAL, identity, operation)
        for operation in (AclOperation.READ, AclOperation.DESCRIBE)
    ]


def consumer_group_binding(identity: str) -> AclBinding:
    """READ on the identity's consumer groups (`<identity>.*`), shared by every stream it reads."""
    return _allow(
        ResourceType.GROUP, consumer_group_prefix(identity), ResourcePatternType.PREFIXED, identity, AclOperation.READ
    )


def consumer_bindings(identity: str, topic: str) -> list[AclBinding]:
    return [*consumer_topic_bindings(identity, topic), consumer_group_binding(identity)]


def create_acls(admin: AdminClient, bindings: Iterable[AclBinding]) -> None:
    """Create the bindings and return once the broker enforces them (creating one twice is a no-op)."""
    unique = list(dict.fromkeys(bindings))  # producer and consumer grants share DESCRIBE
    for binding, future in admin.create_acls(unique, request_timeout=ADMIN_TIMEOUT_S).items():
        try:
            future.result()
        except KafkaException as exc:
            raise AclChangeError(f"The broker refused ACL {binding}: {exc.args[0].str()}") from exc
    _wait_until(admin, lambda current: all(binding in current for binding in unique), "granted")


def delete_identity_acls(admin: AdminClient, identity: str) -> int:
    """Remove every ACL of the identity and return once the broker refuses it on its next request."""
    deleted = 0
    for future in admin.delete_acls([_bindings_of(principal(identity))], request_timeout=ADMIN_TIMEOUT_S).values():
        try:
            deleted += len(future.result())
        except KafkaException as exc:
            raise AclChangeError(f"The broker refused to delete the ACLs of {identity}: {exc.args[0].str()}") from exc
    _wait_until(
        admin, lambda current: not any(binding.principal == principal(identity) for binding in current), "removed"
    )
    return deleted


def delete_bindings(admin: AdminClient, bindings: Iterable[AclBinding]) -> None:
    """Remove exactly these bindings (others of the same principals stay) and return once the broker
    no longer shows them; removing one that does not exist is a no-op."""
    unique = list(dict.fromkeys(bindings))
    filters = [
        AclBindingFilter(
            binding.restype,
            binding.name,
            binding.resource_pattern_type,
            binding.principal,
            binding.host,
            binding.operation,
            binding.permission_type,
        )
        for binding in unique
    ]
    for future in admin.delete_acls(filters, request_timeout=ADMIN_TIMEOUT_S).values():
        try:
            future.result()
        except KafkaException as exc:
            raise AclChangeError(f"The broker refused to delete ACLs: {exc.args[0].str()}") from exc
    _wait_until(admin, lambda current: not any(binding in current for binding in unique), "removed")


def _wait_until(admin: AdminClient, condition: Callable[[set[AclBinding]], bool], change: str) -> None:
    """The controller acknowledges an ACL change before the broker's authorizer has applied it, so a
    client acting right away may still be judged by the old ACLs. DescribeAcls is answered by the
    broker's own authorizer: once it shows the change, the broker enforces it."""
    deadline = time.monotonic() + ADMIN_TIMEOUT_S
    while not condition(current_bindings(admin)):
        if time.monotonic() > deadline:
            raise AclChangeError(f"The broker did not show the ACLs as {change} within {ADMIN_TIMEOUT_S:.0f} s.")
        time.sleep(0.05)


def current_bindings(admin: AdminClient) -> set[AclBinding]:
    try:
        return set(admin.describe_acls(_bindings_of(None), request_timeout=ADMIN_TIMEOUT_S).result())
    except KafkaException as exc:
        raise AclChangeError(f"The broker refused to describe ACLs: {exc.args[0].str()}") from exc


def _bindings_of(principal_name: str | None) -> AclBindingFilter:
    """Every binding of one principal, or of all principals when None."""
    return AclBindingFilter(
        ResourceType.ANY, None, ResourcePatternType.ANY, principal_name, None, AclOperation.ANY, AclPermissionType.ANY
    )
