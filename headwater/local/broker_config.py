"""Render the broker's server.properties and log4j2.properties."""

from dataclasses import dataclass
from pathlib import Path

from headwater.local.broker_plugins import AUTHORIZER_CLASS, PRINCIPAL_BUILDER_CLASS

NODE_ID = 1
NETWORK_THREADS = 2
"""Network processors of the client listener; new connections are spread over them round-robin."""


@dataclass(frozen=True)
class BrokerLayout:
    kafka_port: int
    controller_port: int
    data_dir: Path
    log_dir: Path
    keystore: Path
    truststore: Path
    controller_keystore: Path
    controller_truststore: Path
    revocation_list: Path
    super_users: tuple[str, ...]

    @property
    def bootstrap_servers(self) -> str:
        return f"localhost:{self.kafka_port}"


def render_server_properties(layout: BrokerLayout) -> str:
    settings: dict[str, object] = {
        "process.roles": "broker,controller",
        "node.id": NODE_ID,
        # Formatted with --standalone, so the quorum is found through bootstrap servers, never voters.
        "controller.quorum.bootstrap.servers": f"127.0.0.1:{layout.controller_port}",
        "listeners": f"SSL://127.0.0.1:{layout.kafka_port},CONTROLLER://127.0.0.1:{layout.controller_port}",
        "advertised.listeners": (
            f"SSL://localhost:{layout.kafka_port},CONTROLLER://127.0.0.1:{layout.controller_port}"
        ),
        "listener.security.protocol.map": "SSL:SSL,CONTROLLER:SSL",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "SSL",
        "log.dirs": layout.data_dir,
        # Client listener: hub CA, client certificates required, keystore reloadable at run time.
        "listener.name.ssl.ssl.keystore.type": "PEM",
        "listener.name.ssl.ssl.keystore.location": layout.keystore,
        "listener.name.ssl.ssl.truststore.type": "PEM",
        "listener.name.ssl.ssl.truststore.location": layout.truststore,
        "listener.name.ssl.ssl.client.auth": "required",
        # Controller listener: an internal CA that no client certificate chains to.
        "listener.name.controller.ssl.keystore.type": "PEM",
        "listener.name.controller.ssl.keystore.location": layout.controller_keystore,
        "listener.name.controller.ssl.truststore.type": "PEM",
        "listener.name.controller.ssl.truststore.location": layout.controller_truststore,
        "listener.name.controller.ssl.client.auth": "required",
        # Identities come from certificate subjects by the hub's rule (registry/ca/identity_rule.py),
        # parsed, not matched with ssl.principal.mapping.rules' regular expressions; the principal keeps
        # the certificate's serial and expiry for the authorizer.
        "principal.builder.class": PRINCIPAL_BUILDER_CLASS,
        # StandardAuthorizer behind a per-request refusal of revoked, expired and unidentified
        # certificates, super users included; it re-reads the hub's revocation list within a second.
        "authorizer.class.name": AUTHORIZER_CLASS,
        "headwater.revocation.list.file": layout.revocation_list,
        "allow.everyone.if.no.acl.found": "false",
        "super.users": ";".join(f"User:{name}" for name in layout.super_users),
        # One node: replication factor 1 everywhere, small internal topics, no rebalance delay.
        "num.partitions": 1,
        "default.replication.factor": 1,
        "min.insync.replicas": 1,
        "auto.create.topics.enable": "false",
        "offsets.topic.replication.factor": 1,
        "offsets.topic.num.partitions": 1,
        "transaction.state.log.replication.factor": 1,
        "transaction.state.log.min.isr": 1,
        "transaction.state.log.num.partitions": 1,
        "share.coordinator.state.topic.replication.factor": 1,
        "share.coordinator.state.topic.min.isr": 1,
        "group.initial.rebalance.delay.ms": 0,
        # A 2-core machine: few threads, a small cleaner buffer.
        "num.network.threads": NETWORK_THREADS,
        "num.io.threads": 4,
        "num.recovery.threads.per.data.dir": 1,
        "log.cleaner.threads": 1,
        "log.cleaner.dedupe.buffer.size": 16 * 1024 * 1024,
        # Background checks run within seconds, so a topic configured with a short segment.ms,
        # retention.ms or min.cleanable.dirty.ratio shows compaction and retention effects quickly.
        "log.initial.task.delay.ms": 1000,
        "log.cleaner.backoff.ms": 500,
        "log.retention.check.interval.ms": 1000,
    }
    lines = ["# Written by `headwater local up`; edits are overwritten on the next start."]
    lines += [f"{key}={value}" for key, value in settings.items()]
    return "\n".join(lines) + "\n"


def render_log4j2_properties(log_dir: Path) -> str:
    return f"""\
status = warn
appender.file.type = RollingFile
appender.file.name = FILE
appender.file.fileName = {log_dir}/server.log
appender.file.filePattern = {log_dir}/server.log.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 20MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 3
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
logger.authorizer.name = kafka.authorizer.logger
logger.authorizer.level = INFO
"""
