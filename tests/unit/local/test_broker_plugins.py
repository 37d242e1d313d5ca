"""The broker's own Java classes: configured in server.properties, compiled once per source and Kafka
version into the jar cache (a half-finished compile is redone), and a missing JDK is one clear line."""

from pathlib import Path

import pytest

from headwater.config import LocalSettings
from headwater.local.broker_config import BrokerLayout, render_server_properties
from headwater.local.broker_plugins import AUTHORIZER_CLASS, PRINCIPAL_BUILDER_CLASS, ensure_broker_plugins
from headwater.local.errors import LocalStackError
from headwater.local.java import find_javac
from headwater.local.kafka_jars import ensure_kafka_jars


def _properties(tmp_path: Path) -> dict[str, str]:
    layout = BrokerLayout(
        kafka_port=9094,
        controller_port=9095,
        data_dir=tmp_path / "data",
        log_dir=tmp_path / "logs",
        keystore=tmp_path / "keystore.pem",
        truststore=tmp_path / "ca.crt",
        controller_keystore=tmp_path / "controller-keystore.pem",
        controller_truststore=tmp_path / "internal-ca.crt",
        revocation_list=tmp_path / "ca" / "revocations.txt",
        super_users=("headwater-broker",),
    )
    lines = render_server_properties(layout).splitlines()[1:]
    return dict(line.split("=", 1) for line in lines)


def test_server_properties_name_the_plugins_the_list_and_only_the_broker_as_super_user(tmp_path: Path) -> None:
    properties = _properties(tmp_path)

    assert properties["principal.builder.class"] == PRINCIPAL_BUILDER_CLASS
    assert properties["authorizer.class.name"] == AUTHORIZER_CLASS
    assert properties["headwater.revocation.list.file"] == str(tmp_path / "ca" / "revocations.txt")
    assert properties["super.users"] == "User:headwater-broker"
    assert "ssl.principal.mapping.rules" not in properties


@pytest.fixture(scope="module")
def lib_dir() -> Path:
    settings = LocalSettings()
    return ensure_kafka_jars(settings.cache_dir, settings.kafka_version)


def test_plugins_compile_once_into_the_cache(tmp_path: Path, lib_dir: Path) -> None:
    classes = ensure_broker_plugins(tmp_path, "4.4.0", lib_dir)

    authorizer = classes / "headwater" / "broker" / "HeadwaterAuthorizer.class"
    assert authorizer.is_file()
    assert (classes / "headwater" / "broker" / "HeadwaterPrincipalBuilder.class").is_file()
    compiled_ns = authorizer.stat().st_mtime_ns
    assert ensure_broker_plugins(tmp_path, "4.4.0", lib_dir) == classes
    assert authorizer.stat().st_mtime_ns == compiled_ns


def test_a_half_finished_compile_is_redone(tmp_path: Path, lib_dir: Path) -> None:
    classes = ensure_broker_plugins(tmp_path, "4.4.0", lib_dir)
    (classes.parent / "complete").unlink()
    for class_file in classes.rglob("*.class"):
        class_file.write_bytes(b"cut short")

    assert ensure_broker_plugins(tmp_path, "4.4.0", lib_dir) == classes

    assert (classes / "headwater" / "broker" / "HeadwaterAuthorizer.class").read_bytes()[:4] == b"\xca\xfe\xba\xbe"


def test_missing_javac_says_which_package_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no-such-jdk"))
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no javac on it

    with pytest.raises(LocalStackError, match=r"`javac` \(17\+\) was not found") as raised:
        find_javac()
    assert "apt-get install -y openjdk-17-jdk-headless" in str(raised.value)
