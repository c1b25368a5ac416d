"""Fixtures for the ipshare end-to-end tests.

IPSHARE_E2E_ROUTER selects what routes between the namespaces:
  ipshare (default)  the daemon from $BUILD_DIR/control/ipshare (BUILD_DIR
                     defaults to `build` at the repository root)
  kernel             the Linux reference router (tests marked ipshare_only
                     are skipped)
IPSHARE_E2E_TEST_TIMEOUT (seconds, default 120) bounds every test phase.

The topology is built once per session and removed at the end (by name,
also when tests fail); the daemon is started once and restarted only by the
tests that need it stopped.
"""

import contextlib
import os
import signal
import sys
import types

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import topology as T  # noqa: E402

MODE = os.environ.get("IPSHARE_E2E_ROUTER", "ipshare")
PHASE_TIMEOUT = int(os.environ.get("IPSHARE_E2E_TEST_TIMEOUT", "120"))


def pytest_configure(config):
    config.addinivalue_line("markers", "ipshare_only: needs the ipshare daemon (skipped in kernel mode)")
    if MODE not in ("ipshare", "kernel"):
        raise pytest.UsageError(f"IPSHARE_E2E_ROUTER must be ipshare or kernel, not {MODE!r}")


def pytest_report_header(config):
    extra = f", binary {T.ipshare_binary()}" if MODE == "ipshare" else ""
    return f"ipshare e2e: router={MODE}{extra}, namespaces {T.PREFIX}*"


def pytest_collection_modifyitems(config, items):
    if MODE != "kernel":
        return
    skip = pytest.mark.skip(reason="ipshare only (IPSHARE_E2E_ROUTER=kernel)")
    for item in items:
        if "ipshare_only" in item.keywords:
            item.add_marker(skip)


# ------------------------------------------------------------------ watchdog
# No plugin for timeouts in Debian's pytest: a SIGALRM per phase turns any
# hang into a failure of that test instead of a stuck suite.


class PhaseTimeout(Exception):
    pass


def _alarm(signum, frame):
    raise PhaseTimeout(f"test phase exceeded {PHASE_TIMEOUT}s (IPSHARE_E2E_TEST_TIMEOUT)")


@contextlib.contextmanager
def _watchdog():
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(PHASE_TIMEOUT)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    with _watchdog():
        yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    with _watchdog():
        yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item):
    with _watchdog():
        yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed and MODE == "ipshare":
        r = _ROUTER.get("router")
        if r is not None and r.daemon is not None and r.daemon.bg is not None:
            rep.sections.append(("ipshare stdout (last 40 lines)",
                                 "\n".join(r.daemon.stdout.splitlines()[-40:])))
            rep.sections.append(("ipshare stderr (last 40 lines)",
                                 "\n".join(r.daemon.stderr.splitlines()[-40:])))


# ------------------------------------------------------------------ fixtures


# The namespaces have fixed names: two runs at once (two terminals, two
# engineers on one machine) would tear down each other's test bed. A run
# holds this lock for its whole session; another waits for it (bounded).
LOCK_PATH = "/run/ipsh-e2e.lock"
LOCK_WAIT_SECONDS = 1800


@pytest.fixture(scope="session")
def _e2e_lock():
    import fcntl
    import time
    fd = os.open(LOCK_PATH, os.O_CREAT | os.O_RDWR, 0o600)
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    # The wait is bounded by LOCK_WAIT_SECONDS, not by the phase watchdog:
    # the first test's setup must not fail because another run is long.
    signal.alarm(0)
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() > deadline:
                os.close(fd)
                pytest.exit(f"another e2e run holds {LOCK_PATH} for over {LOCK_WAIT_SECONDS} s", returncode=2)
            time.sleep(1)
    signal.alarm(PHASE_TIMEOUT)  # the rest of the setup phase is watched again
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


@pytest.fixture(scope="session")
def topo(_e2e_lock):
    if os.geteuid() != 0:
        pytest.exit("the e2e tests create network namespaces: run them as root", returncode=2)
    if MODE == "ipshare" and not T.ipshare_binary().exists():
        pytest.exit(f"ipshare binary not found at {T.ipshare_binary()} (run scripts/build.sh)",
                    returncode=2)
    T.up()
    try:
        if MODE == "kernel":
            T.configure_kernel_router()
        yield T
    finally:
        left = T.down()
        assert not left, f"namespaces left behind: {left}"


class Router:
    """What routes: the ipshare daemon, or the kernel of ipsh-router."""

    def __init__(self, mode):
        self.mode = mode
        self.daemon = None
        self.deaths = []
        self.config_text = T.DEFAULT_CONFIG  # what start() runs the daemon with
        self.workers = 1

    @property
    def is_ipshare(self):
        return self.mode == "ipshare"

    def start(self):
        if self.is_ipshare:
            self.daemon = T.Daemon(config_text=self.config_text, workers=self.workers).start(timeout=30)

    def stop(self, sig=signal.SIGINT):
        if self.daemon is not None:
            rc = self.daemon.stop(sig)
            return rc
        return None

    def counters(self):
        assert self.is_ipshare, "counters exist only in ipshare mode"
        return self.daemon.counters()

    def ctl(self, *words, json=False, timeout=20):
        """ipsharectl against the running daemon's socket: the output as
        text, or parsed with json=True; CmdError when the command fails."""
        assert self.is_ipshare, "the control socket exists only in ipshare mode"
        return self.daemon.ctl(*words, json=json, timeout=timeout)

    @contextlib.contextmanager
    def configured(self, extra_lines, workers=1):
        """Run the daemon with the default configuration plus extra_lines (and
        `workers` worker lcores) for the duration of the block (a restart),
        then as before. Yields self; ipshare mode only."""
        assert self.is_ipshare, "configurations exist only in ipshare mode"
        self.daemon.stop()
        self.config_text = T.DEFAULT_CONFIG + extra_lines.strip("\n") + "\n"
        self.workers = workers
        try:
            self.start()
            yield self
        finally:
            if self.daemon is not None:
                self.daemon.stop()
            self.config_text = T.DEFAULT_CONFIG
            self.workers = 1
            self.start()

    @contextlib.contextmanager
    def stopped(self, sig=signal.SIGTERM):
        """Stop the daemon for the duration of the block; restart it after."""
        d = self.daemon
        rc = d.stop(sig)
        info = types.SimpleNamespace(rc=rc, final=d.final_counters, stdout=d.stdout, stderr=d.stderr)
        try:
            yield info
        finally:
            self.start()


_ROUTER = {}


@pytest.fixture(scope="session")
def router(topo):
    r = Router(MODE)
    r.start()
    _ROUTER["router"] = r
    try:
        yield r
    finally:
        r.stop()
        _ROUTER.pop("router", None)


@pytest.fixture(autouse=True)
def _daemon_stays_up(request):
    """A daemon that dies during a test fails that test (and is restarted)."""
    r = _ROUTER.get("router")
    if r is not None and r.is_ipshare and not r.daemon.running():
        r.start()
    yield
    r = _ROUTER.get("router")
    if r is not None and r.is_ipshare and not r.daemon.running():
        rc = r.daemon.returncode
        err = "\n".join(r.daemon.stderr.splitlines()[-20:])
        out = "\n".join(r.daemon.stdout.splitlines()[-20:])
        pytest.fail(f"ipshare exited during the test (exit {rc})\nstderr:\n{err}\nstdout:\n{out}")
