"""A throwaway PostgreSQL cluster of a test's own, which the test may stop.

The cluster lives in a temporary directory and listens on a free loopback
port, so stopping it never touches the machine's own server on 5432.
initdb refuses to run as root, so under root the cluster belongs to the
`postgres` user and every command runs through `runuser`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.live.server import HOST, find_free_port

POSTGRES_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
COMMAND_TIMEOUT_SECONDS = 60
SERVICE_USER = "postgres"


def find_postgres_bin() -> Path | None:
    """Return the newest Debian PostgreSQL bin directory that has initdb."""
    for directory in POSTGRES_BIN_DIRS:
        if (directory / "initdb").is_file():
            return directory

    found = shutil.which("initdb")
    return Path(found).parent if found else None


@dataclass
class PostgresCluster:
    """A cluster in `directory` served on `port`, started and stopped by pg_ctl."""

    bin_dir: Path
    directory: Path
    port: int

    @property
    def data_dir(self) -> Path:
        return self.directory / "data"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@{HOST}:{self.port}/postgres"

    def init(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.directory, SERVICE_USER, SERVICE_USER)

        self._run(
            "initdb",
            "--pgdata",
            str(self.data_dir),
            "--username",
            "postgres",
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
        )

    def start(self) -> None:
        options = f"-p {self.port} -h {HOST} -k {self.directory}"
        log_file = str(self.directory / "server.log")
        self._run(
            "pg_ctl", "start", "-D", str(self.data_dir), "-o", options, "-l", log_file
        )

    def stop(self, mode: str = "fast") -> None:
        """Stop the server; `fast` ends sessions, `immediate` skips the checkpoint."""
        self._run("pg_ctl", "stop", "-D", str(self.data_dir), "-m", mode)

    def is_running(self) -> bool:
        status = subprocess.run(
            self._command("pg_ctl", "status", "-D", str(self.data_dir)),
            capture_output=True,
            timeout=COMMAND_TIMEOUT_SECONDS,
            check=False,
        )
        return status.returncode == 0

    def _run(self, program: str, *arguments: str) -> None:
        # pg_ctl waits for the server to start or stop (-w is the default).
        subprocess.run(
            self._command(program, *arguments),
            capture_output=True,
            timeout=COMMAND_TIMEOUT_SECONDS,
            check=True,
        )

    def _command(self, program: str, *arguments: str) -> list[str]:
        command = [str(self.bin_dir / program), *arguments]
        if os.geteuid() == 0:
            return ["runuser", "-u", SERVICE_USER, "--", *command]
        return command


def create_cluster(bin_dir: Path, directory: Path) -> PostgresCluster:
    """Initialise and start a cluster in `directory` on a free loopback port."""
    cluster = PostgresCluster(bin_dir, directory, find_free_port())
    cluster.init()
    cluster.start()
    return cluster
