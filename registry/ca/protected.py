"""The hub's own identities, which only the CA key's holder on the hub's machine issues, renews or revokes."""

from dataclasses import dataclass


@dataclass(frozen=True)
class ProtectedIdentities:
    """The hub's own identities by name (admin, broker, hub), and the domain they belong to: every
    identity of that domain is protected too, so the API can never create a platform identity."""

    names: frozenset[str]
    platform_domain: str

    def protects(self, name: str, domain: str) -> bool:
        return name in self.names or domain == self.platform_domain
