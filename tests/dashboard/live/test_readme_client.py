"""The README's 10-line Python client runs as printed against a real server."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db(transaction=True)
README = Path(__file__).resolve().parents[3] / "README.md"


def readme_python_client() -> str:
    text = README.read_text()
    section = text[text.index("From Python (10 lines"):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_readme_python_client_prints_the_welcome_and_snapshots(feed_site):
    code = readme_python_client()
    assert len(code.strip().splitlines()) <= 10
    code = code.replace("ws://127.0.0.1:8000", feed_site.url.replace("http", "ws", 1))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "'type': 'welcome'" in lines[0]
    assert lines[1].startswith("snapshot health {'providers': [") and lines[2].startswith("snapshot breakers")
