"""Open the hub CA together with its ledger in the hub database (migrated to the newest schema)."""

from headwater.registry.ca import CertificateAuthority, CertificateLedger
from headwater.registry.config import RegistrySettings
from headwater.registry.database import create_database_engine, session_factory, upgrade_database


def open_ledger(settings: RegistrySettings, create_authority: bool = True) -> CertificateLedger:
    authority = (
        CertificateAuthority.load_or_create(settings.ca_dir, settings.trust_domain)
        if create_authority
        else CertificateAuthority.load(settings.ca_dir)
    )
    engine = create_database_engine(settings.resolved_database_url)
    upgrade_database(engine)
    return CertificateLedger(authority, session_factory(engine), settings.lifetimes)
