"""Host tools lab installs on demand from Debian's packages (mmdebstrap, tcpdump), as root."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys


def ensure(command: str, package: str) -> str | None:
    """The path of `command`, installing `package` with apt-get first when it is missing and lab is root."""
    found = shutil.which(command)
    if found or os.geteuid() != 0 or not shutil.which("apt-get"):
        return found
    print(f"lab: installing {package} (apt-get)", file=sys.stderr, flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for argv in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", package]):
        # apt's chatter (debconf's notes on stderr) would tear through the live progress view
        subprocess.run(argv, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return shutil.which(command)
