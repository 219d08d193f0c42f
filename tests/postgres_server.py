"""A real PostgreSQL server on a free loopback port, for the PostgreSQL pass of the test suite
(`make test-postgres`, tests/pg_plugin.py).

A throwaway cluster: `initdb` in a temp dir, the socket in that dir, TCP only on 127.0.0.1:<free
port>, trust authentication for the one role it creates (`cryptohub`, a superuser: the tests create
and drop databases), fsync and synchronous commits off. The binaries are Debian's
(/usr/lib/postgresql/<version>/bin, the newest installed; `make test-postgres` installs the
`postgresql` package when none is there). PostgreSQL refuses to run as root: as root, initdb and the
server run as the `postgres` user the package creates, and the temp dir is handed to it; as anyone
else they run as that user, no su needed.

The collation is ICU's root locale (what en_US.UTF-8 and most production clusters sort like): names
sort case-insensitively, as they will in production, instead of byte order as in SQLite and the C locale.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from tests.redis_server import free_port

DEBIAN_ROOT = Path("/usr/lib/postgresql")
ROLE = "cryptohub"
START_TIMEOUT_S = 60
STOP_TIMEOUT_S = 20


def bin_dir() -> Path:
    """The newest installed Debian PostgreSQL's bin directory (or wherever `initdb` is on PATH)."""
    versions = sorted((p for p in DEBIAN_ROOT.glob("*/bin/initdb")),
                      key=lambda p: [int(n) for n in re.findall(r"\d+", p.parent.parent.name)] or [0])
    if versions:
        return versions[-1].parent
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    raise RuntimeError("PostgreSQL is not installed; `make test-postgres` installs it (apt-get install postgresql)")


class PostgresServer:
    def __init__(self) -> None:
        self.bin = bin_dir()
        self.port = free_port()
        self.host = "127.0.0.1"
        self._dir = Path(tempfile.mkdtemp(prefix="cryptohub-pg-"))
        self._data = self._dir / "data"
        self._log = self._dir / "server.log"
        self._process: subprocess.Popen | None = None
        self._run_as = self._unprivileged_user()
        try:
            self._initdb()
            self._start()
        except BaseException:
            self.stop()
            raise

    def url(self, name: str = "postgres") -> str:
        return f"postgres://{ROLE}@{self.host}:{self.port}/{name}"

    @staticmethod
    def _unprivileged_user() -> pwd.struct_passwd | None:
        if os.geteuid() != 0:
            return None
        try:
            return pwd.getpwnam("postgres")
        except KeyError:
            raise RuntimeError("running as root needs the `postgres` user to run the test cluster as "
                               "(Debian's postgresql package creates it)") from None

    def _popen_user(self) -> dict:
        if self._run_as is None:
            return {}
        return {"user": self._run_as.pw_uid, "group": self._run_as.pw_gid, "extra_groups": []}

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "LC_", "LANG"))}
        env["LC_ALL"] = "C.UTF-8"
        if self._run_as is not None:
            env["HOME"] = self._run_as.pw_dir
        return env

    def _initdb(self) -> None:
        if self._run_as is not None:
            os.chown(self._dir, self._run_as.pw_uid, self._run_as.pw_gid)
        command = [str(self.bin / "initdb"), "-D", str(self._data), "-U", ROLE, "--auth=trust", "--encoding=UTF8",
                   "--locale=C.UTF-8", "--no-sync"]
        if _major(self.bin) >= 15:
            command += ["--locale-provider=icu", "--icu-locale=und"]
        result = subprocess.run(command, env=self._env(), cwd=self._dir, capture_output=True, text=True,
                                timeout=120, **self._popen_user())
        if result.returncode != 0:
            raise RuntimeError(f"initdb failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")

    def _start(self) -> None:
        settings = {
            "listen_addresses": self.host, "port": str(self.port), "unix_socket_directories": str(self._dir),
            # A throwaway cluster: durability is worth nothing, speed is.
            "fsync": "off", "synchronous_commit": "off", "full_page_writes": "off",
            # Live servers (one pool per worker), Celery workers and the test process at once.
            "max_connections": "300", "shared_buffers": "64MB",
            "log_min_messages": "warning", "log_min_error_statement": "panic",
        }
        command = [str(self.bin / "postgres"), "-D", str(self._data)]
        for name, value in settings.items():
            command += ["-c", f"{name}={value}"]
        log = open(self._log, "ab")  # noqa: SIM115 (the server writes it until stop())
        if self._run_as is not None:
            os.chown(self._log, self._run_as.pw_uid, self._run_as.pw_gid)
        # A session of its own: a Ctrl-C at the terminal reaches pytest, which stops the server after its teardown.
        self._process = subprocess.Popen(command, env=self._env(), cwd=self._dir, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True, **self._popen_user())
        log.close()
        self._wait_ready()

    def _wait_ready(self) -> None:
        import psycopg

        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(f"postgres exited ({self._process.returncode}):\n{self.output()}")
            try:
                with psycopg.connect(self.url(), connect_timeout=2):
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"postgres did not start in {START_TIMEOUT_S} s:\n{self.output()}") from None
                time.sleep(0.1)

    def output(self, tail: int = 4000) -> str:
        with contextlib.suppress(OSError):
            return self._log.read_text(errors="replace")[-tail:]
        return ""

    def stop(self) -> None:
        """Fast shutdown (clients disconnected, no wait for them), then the temp dir goes."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGKILL):
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(sig)
                try:
                    process.wait(timeout=STOP_TIMEOUT_S)
                    break
                except subprocess.TimeoutExpired:
                    continue
        shutil.rmtree(self._dir, ignore_errors=True)


def _major(bin_path: Path) -> int:
    match = re.search(r"(\d+)", bin_path.parent.name)
    if match and bin_path.parent.parent == DEBIAN_ROOT:
        return int(match.group(1))
    result = subprocess.run([str(bin_path / "postgres"), "--version"], capture_output=True, text=True, check=True)
    return int(re.search(r"(\d+)", result.stdout).group(1))


def _admin_connection(settings_dict: dict):
    """An autocommit connection to the cluster's `postgres` database, as the test role."""
    import psycopg

    return psycopg.connect(host=settings_dict["HOST"], port=settings_dict["PORT"], user=settings_dict["USER"],
                           password=settings_dict.get("PASSWORD") or None, dbname="postgres", autocommit=True)


def copy_database(settings_dict: dict, target: str) -> None:
    """CREATE DATABASE target as a copy of the database in `settings_dict`. A template must have no
    one connected: sessions still open on it (a thread of the test process an earlier test left one
    in) are ended first."""
    from psycopg import sql

    with _admin_connection(settings_dict) as admin:
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                      [settings_dict["NAME"]])
        admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
            sql.Identifier(target), sql.Identifier(settings_dict["NAME"])))


def drop_database(settings_dict: dict, name: str) -> None:
    from psycopg import sql

    with _admin_connection(settings_dict) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
