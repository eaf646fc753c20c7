"""Start a throwaway PostgreSQL server on 127.0.0.1 for the test suite.

The server uses trust authentication and runs with fsync, synchronous_commit and
full_page_writes off, so its data does not survive a crash. It is for tests only.
PostgreSQL refuses to run as root, so when the tests run as root, initdb and pg_ctl
run as the ``postgres`` OS user that Debian's postgresql package creates.
"""

from __future__ import annotations

import atexit
import importlib.util
import logging
import os
import pwd
import re
import shlex
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

if TYPE_CHECKING:
    import psycopg

logger = logging.getLogger(__name__)

SERVER_OS_USER = "postgres"
"""OS user that runs initdb and the server when the test process runs as root."""

SUPERUSER = "postgres"
"""Database superuser that initdb creates and that every URL connects as."""

HOST = "127.0.0.1"

_DEBIAN_INSTALL_ROOT = Path("/usr/lib/postgresql")
_SERVER_BINARIES = ("initdb", "pg_ctl")
_PG_CTL_TIMEOUT_SECONDS = 60
_START_ATTEMPTS = 3
_LOG_TAIL_LINES = 30

# Linux limits a Unix socket path to 107 bytes, because sun_path is 108 bytes with
# the terminating NUL (unix(7)).
_MAX_SOCKET_PATH_BYTES = 107
_SOCKET_FILE_NAME = ".s.PGSQL.65535"

# Database names go into URLs unquoted, and the server silently truncates
# identifiers longer than 63 bytes.
_DATABASE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


class PostgresServerError(RuntimeError):
    """Error raised when the test PostgreSQL server cannot be set up, started or stopped."""


def find_bin_dir() -> Path | None:
    """Find the folder that contains PostgreSQL's initdb and pg_ctl, or return None.

    Tries ``pg_config --bindir`` first, then the highest version under
    /usr/lib/postgresql (Debian's layout), then PATH.
    """
    bin_dir = _bin_dir_from_pg_config()
    if bin_dir is not None:
        return bin_dir

    for version_dir in _debian_version_dirs():
        if _has_server_binaries(version_dir / "bin"):
            return version_dir / "bin"

    initdb = shutil.which("initdb")
    if initdb is None:
        return None
    # /usr/local/bin may hold only a symbolic link to initdb, so the folder of its
    # target is tried too.
    for candidate in (Path(initdb).parent, Path(initdb).resolve().parent):
        if _has_server_binaries(candidate):
            return candidate
    return None


def unavailable_reason() -> str:
    """Return why a test server cannot run on this machine, or "" when it can."""
    if find_bin_dir() is None:
        return (
            "PostgreSQL server binaries (initdb, pg_ctl) not found by pg_config, "
            f"in {_DEBIAN_INSTALL_ROOT}/*/bin or on PATH. Install Debian's postgresql package"
        )
    if importlib.util.find_spec("psycopg") is None:
        return "psycopg is not installed. Run: pip install 'psycopg[binary]'"
    if os.geteuid() == 0:
        if _server_os_user() is None:
            return (
                f"tests run as root but the OS user {SERVER_OS_USER!r} does not exist. "
                "Install Debian's postgresql package, which creates it"
            )
        if _find_runuser() is None and shutil.which("setpriv") is None:
            return (
                "tests run as root but neither runuser nor setpriv was found "
                f"to run the server as {SERVER_OS_USER!r}"
            )
    return ""


def available() -> bool:
    """Return whether a test server can run here. unavailable_reason() returns why not."""
    return unavailable_reason() == ""


class PostgresServer:
    """PostgreSQL server for tests that listens on 127.0.0.1 only.

    Call start() before url(), create_database() or drop_database(). Leaving a
    ``with`` block stops the server, and an atexit hook stops a server that is still
    running when the interpreter exits.
    """

    def __init__(self, bin_dir: Path | None = None) -> None:
        self._bin_dir = bin_dir
        self._command_prefix: list[str] = []
        self._work_dir: Path | None = None
        self._remove_work_dir_on_stop = False
        self._port: int | None = None

    @property
    def running(self) -> bool:
        return self._port is not None

    @property
    def port(self) -> int:
        if self._port is None:
            raise PostgresServerError(
                "the PostgreSQL test server is not running. Call start() first"
            )
        return self._port

    @property
    def data_dir(self) -> Path:
        return self._require_work_dir() / "data"

    @property
    def log_file(self) -> Path:
        return self._require_work_dir() / "server.log"

    def start(self, base_dir: Path) -> Self:
        """Create a new cluster in a folder under base_dir and start a server on a free port.

        The test process may run as root while the postgres OS user cannot reach
        base_dir, as with pytest's folders under /tmp/pytest-of-root. Then the cluster
        goes in a new folder in the system temporary folder, which stop() removes.
        """
        if self._port is not None:
            raise PostgresServerError(
                f"the PostgreSQL test server is already running on port {self._port}"
            )

        bin_dir = self._bin_dir or find_bin_dir()
        if bin_dir is None:
            raise PostgresServerError(unavailable_reason())
        self._bin_dir = bin_dir
        self._command_prefix = _run_as_server_user_prefix()

        # A folder left from an earlier start may be gone, and _run() uses it as cwd.
        self._work_dir = None
        self._work_dir = self._make_work_dir(base_dir)
        self._init_cluster()
        self._port = self._start_server()
        atexit.register(self._stop_at_exit)
        logger.info(
            "PostgreSQL test server started on %s:%d with data directory %s",
            HOST,
            self._port,
            self.data_dir,
        )
        return self

    def url(self, database: str = "postgres") -> str:
        """Return the SQLAlchemy URL for a database on this server."""
        _check_database_name(database)
        return f"postgresql+psycopg://{SUPERUSER}@{HOST}:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create an empty database and return its SQLAlchemy URL."""
        from psycopg import sql

        _check_database_name(name)
        with self._connect() as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        logger.debug("created database %s on port %d", name, self.port)
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop a database if it exists, closing connections that are still open to it."""
        from psycopg import sql

        _check_database_name(name)
        with self._connect() as connection:
            # DROP DATABASE ... WITH (FORCE) was added in PostgreSQL 13.
            if connection.info.server_version >= 130000:
                statement = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            else:
                statement = sql.SQL("DROP DATABASE IF EXISTS {}")
            connection.execute(statement.format(sql.Identifier(name)))
        logger.debug("dropped database %s on port %d", name, self.port)

    def stop(self) -> None:
        """Stop the server with pg_ctl's fast mode. Does nothing when it is not running."""
        if self._port is None:
            return
        atexit.unregister(self._stop_at_exit)
        port = self._port
        self._port = None

        result = self._run_server_binary(
            "pg_ctl",
            [
                "-D",
                str(self.data_dir),
                "-m",
                "fast",
                "-w",
                "-t",
                str(_PG_CTL_TIMEOUT_SECONDS),
                "stop",
            ],
        )
        if result.returncode != 0:
            raise PostgresServerError(
                f"pg_ctl stop failed with exit code {result.returncode} for the server on port "
                f"{port} (data directory {self.data_dir}):\n{_output_of(result)}"
            )
        logger.info("PostgreSQL test server on port %d stopped", port)

        if self._remove_work_dir_on_stop:
            shutil.rmtree(self._require_work_dir(), ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _stop_at_exit(self) -> None:
        try:
            self.stop()
        except (PostgresServerError, OSError, subprocess.SubprocessError) as error:
            logger.error("failed to stop the PostgreSQL test server at exit: %s", error)

    def _require_work_dir(self) -> Path:
        if self._work_dir is None:
            raise PostgresServerError(
                "the PostgreSQL test server has no cluster. Call start() first"
            )
        return self._work_dir

    def _make_work_dir(self, base_dir: Path) -> Path:
        base_dir.mkdir(parents=True, exist_ok=True)
        work_dir = Path(tempfile.mkdtemp(prefix="postgresql-", dir=base_dir))
        self._remove_work_dir_on_stop = False
        if not self._command_prefix:
            return work_dir

        _chown_to_server_user(work_dir)
        if self._server_user_can_write(work_dir):
            return work_dir

        shutil.rmtree(work_dir)
        work_dir = Path(tempfile.mkdtemp(prefix="medrecord-postgresql-"))
        _chown_to_server_user(work_dir)
        if not self._server_user_can_write(work_dir):
            shutil.rmtree(work_dir)
            raise PostgresServerError(
                f"the OS user {SERVER_OS_USER!r} cannot write to {base_dir} "
                f"or to {work_dir.parent}. Pass a base folder that user can reach, "
                "or set TMPDIR to one"
            )
        logger.info(
            "OS user %s cannot reach %s, so the test cluster goes in %s",
            SERVER_OS_USER,
            base_dir,
            work_dir,
        )
        self._remove_work_dir_on_stop = True
        return work_dir

    def _server_user_can_write(self, path: Path) -> bool:
        result = self._run([*self._command_prefix, "test", "-w", str(path)])
        return result.returncode == 0

    def _init_cluster(self) -> None:
        common_args = [
            "-D",
            str(self.data_dir),
            "-A",
            "trust",
            "-U",
            SUPERUSER,
            "--encoding=UTF8",
            "--no-sync",
        ]
        # C.UTF-8 sorts strings by code point, as C does, and upper() and lower() also
        # convert non-ASCII letters. Where that locale is missing, --no-locale is used.
        for locale_args in (["--locale=C.UTF-8"], ["--no-locale"]):
            result = self._run_server_binary("initdb", [*common_args, *locale_args])
            if result.returncode == 0:
                return
            logger.info("initdb %s failed: %s", locale_args[0], _output_of(result))
            shutil.rmtree(self.data_dir, ignore_errors=True)

        raise PostgresServerError(
            f"initdb failed with exit code {result.returncode} for {self.data_dir}:\n"
            f"{_output_of(result)}"
        )

    def _start_server(self) -> int:
        socket_dir = self._require_work_dir() / "socket"
        socket_dir.mkdir()
        if self._command_prefix:
            _chown_to_server_user(socket_dir)
        socket_dir_option = str(socket_dir)
        if len(os.fsencode(socket_dir / _SOCKET_FILE_NAME)) > _MAX_SOCKET_PATH_BYTES:
            # Tests connect over TCP only, so the server can do without a Unix socket.
            logger.debug(
                "socket path under %s is too long, so the server starts without a Unix socket",
                socket_dir,
            )
            socket_dir_option = ""

        for attempt in range(1, _START_ATTEMPTS + 1):
            port = _find_free_port()
            log_offset = self.log_file.stat().st_size if self.log_file.exists() else 0
            options = " ".join(
                [
                    f"-h {HOST}",
                    f"-p {port}",
                    f"-k {shlex.quote(socket_dir_option)}",
                    "-F",
                    "-c fsync=off",
                    "-c synchronous_commit=off",
                    "-c full_page_writes=off",
                    "-c max_connections=200",
                ]
            )
            result = self._run_server_binary(
                "pg_ctl",
                [
                    "-D", str(self.data_dir),
                    "-l", str(self.log_file),
                    "-w",
                    "-t", str(_PG_CTL_TIMEOUT_SECONDS),
                    "-o", options,
                    "start",
                ],
            )  # fmt: skip
            if result.returncode == 0:
                return port

            log_tail = _read_log_tail(self.log_file, log_offset)
            # A timed-out start can leave a server running, so it is stopped before
            # a retry or before the error is raised.
            self._run_server_binary("pg_ctl", ["-D", str(self.data_dir), "-m", "immediate", "stop"])
            if "could not bind" in log_tail and attempt < _START_ATTEMPTS:
                logger.warning("port %d was taken before the server could bind it, retrying", port)
                continue
            raise PostgresServerError(
                f"pg_ctl start failed with exit code {result.returncode} on {HOST}:{port} "
                f"(data directory {self.data_dir}).\n"
                f"pg_ctl output:\n{_output_of(result)}\n"
                f"Last lines of the server log {self.log_file}:\n{log_tail}"
            )
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _run_server_binary(self, name: str, args: list[str]) -> subprocess.CompletedProcess[str]:
        assert self._bin_dir is not None
        return self._run([*self._command_prefix, str(self._bin_dir / name), *args])

    def _run(self, command: list[str]) -> subprocess.CompletedProcess[str]:
        logger.debug("running %s", shlex.join(command))
        try:
            return subprocess.run(
                command,
                # The postgres OS user may not be allowed into the caller's folder.
                cwd=self._work_dir or "/",
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                check=False,
                timeout=_PG_CTL_TIMEOUT_SECONDS + 30,
            )
        except subprocess.TimeoutExpired as error:
            raise PostgresServerError(
                f"{shlex.join(command)} timed out after {error.timeout} s"
            ) from error

    def _connect(self) -> psycopg.Connection[tuple[Any, ...]]:
        import psycopg

        return psycopg.connect(
            host=HOST,
            port=self.port,
            user=SUPERUSER,
            dbname="postgres",
            autocommit=True,
            connect_timeout=10,
        )


def _has_server_binaries(bin_dir: Path) -> bool:
    return all((bin_dir / name).is_file() for name in _SERVER_BINARIES)


def _bin_dir_from_pg_config() -> Path | None:
    pg_config = shutil.which("pg_config")
    if pg_config is None:
        return None
    try:
        result = subprocess.run(
            [pg_config, "--bindir"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError) as error:
        logger.debug("pg_config --bindir failed: %s", error)
        return None
    # Debian's libpq-dev ships a pg_config that names the bin folder even when the
    # server package is not installed, so the binaries are checked.
    bin_dir = Path(result.stdout.strip())
    return bin_dir if _has_server_binaries(bin_dir) else None


def _debian_version_dirs() -> list[Path]:
    """Return /usr/lib/postgresql/<version> folders, highest version first."""
    if not _DEBIAN_INSTALL_ROOT.is_dir():
        return []
    versions: list[tuple[tuple[int, ...], Path]] = []
    for path in _DEBIAN_INSTALL_ROOT.iterdir():
        if re.fullmatch(r"\d+(\.\d+)*", path.name):
            versions.append((tuple(int(part) for part in path.name.split(".")), path))
    return [path for _, path in sorted(versions, reverse=True)]


def _server_os_user() -> pwd.struct_passwd | None:
    try:
        return pwd.getpwnam(SERVER_OS_USER)
    except KeyError:
        return None


def _find_runuser() -> str | None:
    # runuser lives in /usr/sbin, which a non-login PATH may leave out.
    return shutil.which("runuser") or shutil.which("runuser", path="/usr/sbin:/sbin")


def _run_as_server_user_prefix() -> list[str]:
    """Return the command prefix that runs a program as the postgres OS user when root."""
    if os.geteuid() != 0:
        return []
    user = _server_os_user()
    if user is None:
        raise PostgresServerError(unavailable_reason())

    runuser = _find_runuser()
    if runuser is not None:
        return [runuser, "-u", SERVER_OS_USER, "--"]
    setpriv = shutil.which("setpriv")
    if setpriv is not None:
        return [setpriv, f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--init-groups", "--"]
    raise PostgresServerError(unavailable_reason())


def _chown_to_server_user(path: Path) -> None:
    user = _server_os_user()
    if user is None:
        raise PostgresServerError(unavailable_reason())
    os.chown(path, user.pw_uid, user.pw_gid)


def _check_database_name(name: str) -> None:
    if not _DATABASE_NAME.fullmatch(name):
        raise ValueError(
            f"invalid database name {name!r}: use 1 to 63 ASCII letters, digits or "
            "underscores, not starting with a digit"
        )


def _find_free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago.

    Another process can take the port before the server binds it, so the caller
    retries on a bind failure.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def _read_log_tail(log_file: Path, offset: int) -> str:
    """Return the last lines that the server wrote to log_file after offset."""
    try:
        with log_file.open("rb") as log:
            log.seek(offset)
            text = log.read().decode("utf-8", errors="replace")
    except OSError as error:
        return f"(failed to read {log_file}: {error})"
    lines = text.splitlines()[-_LOG_TAIL_LINES:]
    return "\n".join(lines) if lines else "(the server log is empty)"


def _output_of(result: subprocess.CompletedProcess[str]) -> str:
    return (result.stdout + result.stderr).strip() or "(no output)"
