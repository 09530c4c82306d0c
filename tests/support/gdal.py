"""Open files with Debian's GDAL command-line tools, any warning counting as a failure."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


def ogrinfo_strict(path: Path) -> str:
    """``ogrinfo -al`` of ``path``; fails the test on any GDAL warning or error.

    Skips (saying why) where Debian's gdal-bin is not installed; CI installs it.
    """
    tool = shutil.which("ogrinfo")
    if tool is None:
        pytest.skip("ogrinfo (Debian's gdal-bin) is not installed; .ci/run installs it")
    done = subprocess.run(
        [tool, "-al", "-ro", str(path)], capture_output=True, text=True, timeout=60,
        env={"CPL_DEBUG": "OFF", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "", f"GDAL complained about {path.name}: {done.stderr}"
    return done.stdout
