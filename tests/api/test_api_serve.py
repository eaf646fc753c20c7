"""``medrecord serve``: its help, its start-up errors, and a real server serving a request."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from medrecord.cli import app

runner = CliRunner()

START_TIMEOUT_SECONDS = 30


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_serve_help_names_options() -> None:
    result = runner.invoke(app, ["serve", "--help"])

    assert result.exit_code == 0
    for option in ("--host", "--port", "--db", "--tz"):
        assert option in result.output
    assert "MEDRECORD_API_TOKENS" in result.output


def test_serve_without_tokens_fails_in_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("MEDRECORD_API_TOKENS", raising=False)

    result = runner.invoke(app, ["serve", "--db", f"sqlite:///{tmp_path / 'api.db'}"])

    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "error: MEDRECORD_API_TOKENS is not set: set it to token:user_id pairs separated by "
        "commas, for example MEDRECORD_API_TOKENS=change-me-long-random-token:42"
    ]


def test_serve_answers_a_request(tmp_path: Path) -> None:
    port = free_port()
    environment = {
        **os.environ,
        "MEDRECORD_API_TOKENS": "serve-test-token:7",
        "MEDRECORD_API_MEDIA_DIR": str(tmp_path / "media"),
    }
    script = Path(sys.executable).with_name("medrecord")
    assert script.exists(), f"console script {script} is missing; run scripts/setup"
    command = [
        str(script),
        "serve",
        "--port",
        str(port),
        "--db",
        f"sqlite:///{tmp_path / 'api.db'}",
    ]
    server = subprocess.Popen(
        command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        response = _wait_for_answer(
            server,
            f"http://127.0.0.1:{port}/api/sessions",
            headers={"Authorization": "Bearer serve-test-token"},
        )
        assert response.status_code == 200
        assert response.json() == {"items": [], "next_cursor": None}
        assert (tmp_path / "media").is_dir()
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=START_TIMEOUT_SECONDS)

    # uvicorn re-raises the signal after its graceful shutdown, so the status is -SIGTERM.
    assert server.returncode in (0, -signal.SIGTERM), output
    assert "Application shutdown complete" in output
    assert f"serving the medrecord API on http://127.0.0.1:{port}" in output


def _wait_for_answer(
    server: subprocess.Popen[str], url: str, headers: dict[str, str]
) -> httpx.Response:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while True:
        if server.poll() is not None:
            output = server.stdout.read() if server.stdout else ""
            pytest.fail(f"medrecord serve exited with {server.returncode}:\n{output}")
        try:
            return httpx.get(url, headers=headers, timeout=5)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                pytest.fail(f"medrecord serve did not answer within {START_TIMEOUT_SECONDS} s")
            time.sleep(0.2)
