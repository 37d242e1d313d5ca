"""A broken policy file stops the hub at start, naming file and line; it is never skipped."""

import os
import subprocess
from pathlib import Path

import pytest

from headwater.config import LocalSettings
from headwater.local.hub import hub_config
from headwater.policies import PolicyFilesError
from tests.integration.test_cli import HEADWATER

HEADER = "rules:\n  - id: {rule_id}\n    description: A rule.\n    applies_to: [schema_version]\n    severity: error\n"
CEL = HEADER + "    message: Broken.\n    fix_hint: Fix it.\n    cel: {expression}\n"

BROKEN_FILES = [
    pytest.param("rules:\n  - id: a\n    description: a: b\n", 3, "invalid YAML: mapping values", id="bad-yaml"),
    pytest.param(CEL.format(rule_id="syntax", expression="schema.fields.all(f, "), 8, "Syntax error", id="cel-syntax"),
    pytest.param(
        CEL.format(rule_id="typo", expression="schema.feilds.size() > 0"),
        8,
        "undefined field 'feilds'",
        id="unknown-context-field",
    ),
    pytest.param(
        CEL.format(rule_id="count", expression="schema.fields.size()"), 8, "must return bool, not int", id="non-bool"
    ),
    pytest.param(
        HEADER.format(rule_id="twice")
        + "    builtin: fields-documented\n"
        + HEADER.format(rule_id="twice")[7:]
        + "    builtin: fields-documented\n",
        7,
        "duplicate rule id, first defined at",
        id="duplicate-id",
    ),
    pytest.param(
        HEADER.format(rule_id="keys") + "    builtin: fields-documented\n    severty: warn\n",
        7,
        "unknown key 'severty'",
        id="unknown-key",
    ),
]


def _policy_folder(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "org.yaml").write_text(text)
    return folder


@pytest.mark.parametrize(("text", "line", "problem"), BROKEN_FILES)
def test_the_hub_refuses_to_start_on_a_broken_policy_file(tmp_path: Path, text: str, line: int, problem: str) -> None:
    folder = _policy_folder(tmp_path, text)
    settings = LocalSettings(state_dir=tmp_path / "state", policy_dir=folder)

    with pytest.raises(PolicyFilesError) as refused:
        hub_config(settings, "127.0.0.1", 0)

    assert f"{folder / 'org.yaml'}:{line}: " in str(refused.value)
    assert problem in str(refused.value)
    # Refused before anything was created: no database, no certificates.
    assert not (tmp_path / "state").exists()


def test_hub_serve_and_local_up_exit_with_the_file_and_line_and_start_nothing(tmp_path: Path) -> None:
    folder = _policy_folder(tmp_path, CEL.format(rule_id="typo", expression="stream.nmae == 'x'"))
    state = tmp_path / "state"
    environment = {**os.environ, "HEADWATER_POLICY_DIR": str(folder), "COLUMNS": "200"}
    for command in (["hub", "serve", "--port", "0"], ["local", "up"]):
        result = subprocess.run(
            [HEADWATER, "--state-dir", str(state), *command],
            capture_output=True,
            text=True,
            env=environment,
            timeout=60,
            check=False,
        )
        assert result.returncode == 1, result
        assert f"{folder / 'org.yaml'}:8: rule 'typo': CEL undefined field 'nmae'" in result.stderr
        assert "Traceback" not in result.stderr
    assert not (state / "broker").exists() and not (state / "hub").exists()


def test_a_missing_policy_folder_is_refused_too(tmp_path: Path) -> None:
    settings = LocalSettings(state_dir=tmp_path / "state", policy_dir=tmp_path / "nowhere")
    with pytest.raises(Exception, match="Policy folder '.*nowhere' does not exist"):
        hub_config(settings, "127.0.0.1", 0)
