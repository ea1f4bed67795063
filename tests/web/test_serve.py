"""`pib serve --no-scheduler`: the web side alone, in its own process, on the configured port; SIGTERM stops it."""

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

from tests.web.conftest import add_user

PIB = str(Path(sys.executable).parent / "pib")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_serve_without_the_scheduler(engine: object, database_url: str, tmp_path: Path) -> None:
    add_user(engine, firm="École Numérique SA", address="direction@ecole-numerique.example")  # type: ignore[arg-type]
    port = free_port()
    environment = {
        **os.environ,
        "PIB_DATABASE_URL": database_url,
        "PIB_OUTBOX_DIR": str(tmp_path / "outbox"),
        "PIB_WEB_PORT": str(port),
        "PIB_PUBLIC_URL": f"http://127.0.0.1:{port}",
    }
    command = [PIB, "serve", "--no-scheduler"]
    process = subprocess.Popen(command, env=environment, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                assert httpx.get(f"http://127.0.0.1:{port}/healthz").text == "ok\n"
                break
            except httpx.TransportError:
                assert process.poll() is None and time.monotonic() < deadline, "pib serve did not start"
                time.sleep(0.2)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            token = client.get("/login").text.split('name="csrf_token" value="')[1].split('"')[0]
            client.post("/login", data={"email": "direction@ecole-numerique.example", "csrf_token": token})
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert f"portal served on http://127.0.0.1:{port}/" in err
    assert "sign-in link for direction@ecole-numerique.example" in err  # the outbox backend: a person can sign in
    token = err.split(f"http://127.0.0.1:{port}/login/")[1].split()[0]
    assert "POST /login 200" in err and err.count(token) == 1  # requests are logged, never with a token
    assert "scheduler started" not in err and "stopped cleanly" in err


def test_a_busy_port_is_one_line(engine: object, database_url: str, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        environment = {**os.environ, "PIB_DATABASE_URL": database_url, "PIB_WEB_PORT": str(port)}
        done = subprocess.run(
            [PIB, "serve", "--no-scheduler"],
            env=environment,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1
    assert f"pib serve: cannot serve on 127.0.0.1:{port}" in done.stderr and "Traceback" not in done.stderr


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
