"""Run QGIS 3.22 (Debian's ``python3-qgis qgis-providers``) from the tests, in a subprocess.

QGIS's Python bindings belong to Debian's ``/usr/bin/python3``, not to the test
interpreter: :func:`qgis_run` feeds ``tests/support/qgis_probe.py`` a JSON request and
reads its JSON answer, offscreen (``QT_QPA_PLATFORM=offscreen``) with a fresh XDG cache
so no tile or capabilities cache survives between runs. Where QGIS is not installed the
test skips saying so (CI installs it; under ``CI=true`` it fails instead).
"""

from __future__ import annotations

import json
import os
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest

PYTHON = "/usr/bin/python3"
PROBE = Path(__file__).with_name("qgis_probe.py")


@cache
def why_no_qgis() -> str | None:
    """None when Debian's python3 imports qgis.core; else why not."""
    if not Path(PYTHON).exists():
        return f"{PYTHON} is missing"
    env = {"PATH": "/usr/bin:/bin", "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [PYTHON, "-c", "import qgis.core"], capture_output=True, text=True, timeout=120, env=env
    )
    if done.returncode != 0:
        return "QGIS's Python bindings are not installed (apt-get install python3-qgis " \
               f"qgis-providers): {done.stderr.strip()[-200:]}"
    return None


def require_qgis() -> None:
    """Skip (fail under CI) where QGIS cannot run."""
    reason = why_no_qgis()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(f"{reason}; .ci/run installs it")


def qgis_run(request: dict[str, Any], home: Path) -> dict[str, Any]:
    """Answer one probe request with QGIS; ``home`` gets its XDG cache and runtime dirs."""
    require_qgis()
    for name in ("cache", "runtime", "config"):
        (home / name).mkdir(parents=True, exist_ok=True)
    (home / "runtime").chmod(0o700)
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_CACHE_HOME": str(home / "cache"),
        "XDG_RUNTIME_DIR": str(home / "runtime"),
        "XDG_CONFIG_HOME": str(home / "config"),
    }
    done = subprocess.run([PYTHON, str(PROBE)], input=json.dumps(request), capture_output=True,
                          text=True, timeout=300, env=env)
    assert done.returncode == 0, f"QGIS failed ({done.returncode}): {done.stderr[-2000:]}"
    answer: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer
