"""Open the hub database (migrated to the newest schema) and the hub CA with its ledger."""

from sqlalchemy.orm import Session, sessionmaker

from headwater.registry.ca import CertificateAuthority, CertificateLedger
from headwater.registry.config import RegistrySettings
from headwater.registry.database import create_database_engine, session_factory, upgrade_database


def open_hub_database(settings: RegistrySettings) -> sessionmaker[Session]:
    engine = create_database_engine(settings.resolved_database_url)
    upgrade_database(engine)
    return session_factory(engine)


def open_ledger(
    settings: RegistrySettings, create_authority: bool = True, sessions: sessionmaker[Session] | None = None
) -> CertificateLedger:
    authority = (
        CertificateAuthority.load_or_create(settings.ca_dir, settings.trust_domain)
        if create_authority
        else CertificateAuthority.load(settings.ca_dir)
    )
    return CertificateLedger(
        authority, sessions or open_hub_database(settings), settings.lifetimes, settings.revocation_list_file
    )
