"""Partition counts stay within bounds and never change after registration."""

from headwater.policies.context import PolicyContext
from headwater.policies.rule import Params
from headwater.policies.violation import Finding


def check_partitions_within_bounds(context: PolicyContext, params: Params) -> list[Finding]:
    stream = context.stream
    if stream is None:
        return []
    minimum, maximum = params["minimum"], params["maximum"]
    if minimum <= stream.partitions <= maximum:
        return []
    return [
        Finding(
            "stream.partitions",
            f"Stream '{stream.name}' has {stream.partitions} partitions, outside {minimum}..{maximum}.",
        )
    ]


def check_partitions_immutable(context: PolicyContext, params: Params) -> list[Finding]:
    stream, registered = context.stream, context.registered_stream
    if stream is None or registered is None or stream.partitions == registered.partitions:
        return []
    return [
        Finding(
            "stream.partitions",
            f"Stream '{stream.name}' was registered with {registered.partitions} partitions; "
            f"changing it to {stream.partitions} would move keys between partitions.",
        )
    ]
