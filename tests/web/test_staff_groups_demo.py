"""`make demo` for staff: `pib demo --serve` prints a staff sign-in link, and the demo cluster has interest on
the board and a partner group of two firms to look at (the lines it prints lead there)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx

from tests.web.test_staff_interests import text_of

STAFF_LINE = re.compile(r"Sign in as staff \((\S+)\), within \d+ minutes, once: (http://\S+/login/\S+)")


def test_the_demo_prints_a_staff_link_to_its_interest_board_and_group(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environment = {**os.environ, "PIB_WEB_PORT": str(port), "PIB_WEB_HOST": "127.0.0.1"}
    command = [str(Path(sys.executable).parent / "pib"), "demo", "--serve", "--folder", str(tmp_path / "demo")]
    process = subprocess.Popen(
        command, cwd=tmp_path, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        printed = ""
        for line in process.stdout:
            printed += line
            if "a partner group http" in line:
                break
        found = STAFF_LINE.search(printed)
        assert found, printed
        board = re.search(r"the interest board (http://\S+)", printed)
        group = re.search(r"a partner group (http://\S+)", printed)
        assert board and group, printed
        with httpx.Client(timeout=30) as browser:
            page = browser.get(found.group(2))
            token = re.findall(r'name="csrf_token" value="([0-9a-f]+)"', page.text)[-1]
            assert browser.post(found.group(2), data={"csrf_token": token, "next": "/"}).status_code == 303
            seen = text_of(browser.get(board.group(1)).text)
            assert "Tableau des intérêts" in seen and "Entreprises intéressées : 3" in seen
            assert "Mandataire" in seen and "Sous-traitant" in seen and "Groupement " in seen
            sheet = text_of(browser.get(group.group(1)).text)
            assert "Grille de couverture" in sheet and sheet.count("ajoutée comme") == 2
            assert "Réunion de lancement avec les entreprises intéressées (démo)." in sheet
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
