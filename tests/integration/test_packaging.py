"""The top-level folders import as `headwater.*` from an editable install and from a built wheel.

The mapping lives in pyproject.toml ([tool.setuptools] packages + package-dir); a folder that is not
listed works in the repo but is missing for users, so this checks the list against the tree.
"""

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SETUPTOOLS = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
LISTED: list[str] = SETUPTOOLS["packages"]
PACKAGE_DIR: dict[str, str] = SETUPTOOLS["package-dir"]

# Imports every package given on argv and prints where each one was loaded from.
IMPORT_ALL = (
    "import importlib, json, sys; print(json.dumps({n: importlib.import_module(n).__file__ for n in sys.argv[1:]}))"
)


def packages_in_tree() -> dict[str, Path]:
    """Every folder with an `__init__.py` under a mapped folder, by its dotted `headwater.*` name."""
    found: dict[str, Path] = {}
    for root_name, folder in PACKAGE_DIR.items():
        for init in (REPO / folder).rglob("__init__.py"):
            relative = init.parent.relative_to(REPO / folder).parts
            found[".".join((root_name, *relative))] = init.parent
    return found


def run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    # PYTHONPATH could put the repo on sys.path and hide a broken mapping, so it is dropped.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True)
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result


def import_files(python: Path, cwd: Path) -> dict[str, str]:
    # Listed and found packages both: an unlisted folder must fail here too, not only in the list test.
    names = sorted(set(LISTED) | set(packages_in_tree()))
    # -I: neither cwd nor PYTHON* variables reach sys.path, only what the install provides.
    return json.loads(run(python, "-I", "-c", IMPORT_ALL, *names, cwd=cwd).stdout)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Built from a copy: setuptools reuses <source>/build/lib, so stale files from an earlier build
    # (e.g. a package since dropped from the list) would end up in the wheel and hide the mistake.
    source = tmp_path_factory.mktemp("source")
    shutil.copy2(REPO / "pyproject.toml", source)
    shutil.copy2(REPO / "setup.py", source)
    for extra in ("README.md", "LICENSE"):
        if (REPO / extra).exists():
            shutil.copy2(REPO / extra, source)
    for folder in set(PACKAGE_DIR.values()):
        # Without the editable install's in-place extension: the wheel build must compile its own.
        shutil.copytree(REPO / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    outdir = tmp_path_factory.mktemp("dist")
    # --no-isolation reuses the test venv's setuptools (>=77): seconds faster and works offline.
    run(sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", outdir, source, cwd=source)
    (built,) = outdir.glob("headwater-*.whl")
    return built


@pytest.fixture(scope="module")
def wheel_venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    venv = tmp_path_factory.mktemp("wheel-venv")
    run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=venv)
    python = venv / "bin" / "python"
    run(sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps", wheel, cwd=venv)
    # Dependencies come from the test venv through a .pth line; a directory added that way is not
    # scanned for .pth files, so the editable finder (__editable__*.pth) there stays inactive.
    purelib = 'import sysconfig; print(sysconfig.get_path("purelib"))'
    ours = Path(run(python, "-I", "-c", purelib, cwd=venv).stdout.strip())
    theirs = run(sys.executable, "-I", "-c", purelib, cwd=venv).stdout.strip()
    (ours / "test_venv_dependencies.pth").write_text(theirs + "\n")
    return venv


def test_every_package_folder_is_listed_in_pyproject() -> None:
    in_tree = set(packages_in_tree())
    assert not in_tree - set(LISTED), f"add to [tool.setuptools] packages: {sorted(in_tree - set(LISTED))}"
    assert not set(LISTED) - in_tree, f"listed but no __init__.py: {sorted(set(LISTED) - in_tree)}"
    assert len(LISTED) == len(set(LISTED)), f"duplicates in packages: {LISTED}"


def test_every_package_imports_from_the_editable_install(tmp_path: Path) -> None:
    files = import_files(Path(sys.executable), cwd=tmp_path)
    for name, folder in packages_in_tree().items():
        assert Path(files[name]).resolve().parent == folder.resolve(), f"{name} came from {files[name]}"


def test_every_package_imports_from_the_built_wheel(wheel_venv: Path) -> None:
    files = import_files(wheel_venv / "bin" / "python", cwd=wheel_venv)
    for name, file in files.items():
        assert Path(file).resolve().is_relative_to(wheel_venv.resolve()), f"{name} came from {file}"


# The producer SDK's C extension: compiled by both installs, and it encodes.
WRITER_CHECK = (
    "import json; from headwater.producers.avro_encoder import compile_writer, Writer; "
    "writer = compile_writer({'type': 'record', 'name': 'R', 'fields': [{'name': 'n', 'type': 'long'}]}, b'h'); "
    "print(json.dumps([__import__('headwater.producers._avro_writer').producers._avro_writer.__file__, "
    "writer.encode({'n': -65}).hex()]))"
)


def test_the_c_avro_writer_is_built_by_the_editable_install(tmp_path: Path) -> None:
    file, encoded = json.loads(run(sys.executable, "-I", "-c", WRITER_CHECK, cwd=tmp_path).stdout)
    assert Path(file).parent.resolve() == (REPO / "producers").resolve() and file.endswith(".so")
    assert encoded == b"h\x81\x01".hex()


def test_the_c_avro_writer_is_built_into_the_wheel(wheel: Path, wheel_venv: Path) -> None:
    assert any(
        name.startswith("headwater/producers/_avro_writer.") and name.endswith(".so")
        for name in zipfile.ZipFile(wheel).namelist()
    )
    file, encoded = json.loads(run(wheel_venv / "bin" / "python", "-I", "-c", WRITER_CHECK, cwd=wheel_venv).stdout)
    assert Path(file).resolve().is_relative_to(wheel_venv.resolve())
    assert encoded == b"h\x81\x01".hex()


def test_the_wheel_ships_migrations_and_type_markers(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "headwater/migrations/env.py" in names
    assert "headwater/migrations/versions/0001_identities_and_certificates.py" in names
    for name, folder in packages_in_tree().items():
        if (folder / "py.typed").exists():
            assert f"{name.replace('.', '/')}/py.typed" in names


def test_the_wheel_ships_the_broker_plugin_sources(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    sources = sorted((REPO / "headwater" / "local" / "broker_plugins").glob("*.java"))
    assert sources
    assert {f"headwater/local/broker_plugins/{source.name}" for source in sources} <= names


def test_migrations_from_the_built_wheel_create_the_schema(wheel_venv: Path, tmp_path: Path) -> None:
    database = tmp_path / "x.db"
    code = (
        "from headwater.registry.database import create_database_engine, upgrade_database; "
        f"upgrade_database(create_database_engine('sqlite:///{database}'))"
    )
    run(wheel_venv / "bin" / "python", "-I", "-c", code, cwd=tmp_path)
    with sqlite3.connect(database) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "identities" in tables


def test_the_console_script_from_the_built_wheel_runs(wheel_venv: Path, tmp_path: Path) -> None:
    run(wheel_venv / "bin" / "headwater", "--help", cwd=tmp_path)
