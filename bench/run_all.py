"""Every benchmark, one after the other: `make bench`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

for script in ("cold_start.py", "link_extraction.py", "request_cpu.py", "end_to_end.py"):
    subprocess.run([sys.executable, str(HERE / script)], check=True)
