"""Fixtures for the ipshare end-to-end tests.

IPSHARE_E2E_ROUTER selects what routes between the namespaces:
  ipshare (default)  the daemon from $BUILD_DIR/control/ipshare (BUILD_DIR
                     defaults to `build` at the repository root)
  kernel             the Linux reference router (tests marked ipshare_only
                     are skipped)
IPSHARE_E2E_TEST_TIMEOUT (seconds, default 120) bounds every test phase.

Resource accounting (ipshare mode, _resources_come_back below): after every
test, all mbufs are back in the pool and nothing waits for ARP (`show
memory`); after the last test of each module, once the idle timeouts are
shortened at run time, the session table empties.

The topology is built once per session and removed at the end (by name,
also when tests fail); the daemon is started once and restarted only by the
tests that need it stopped.
"""

import contextlib
import os
import signal
import sys
import time
import types

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import topology as T  # noqa: E402

MODE = os.environ.get("IPSHARE_E2E_ROUTER", "ipshare")
PHASE_TIMEOUT = int(os.environ.get("IPSHARE_E2E_TEST_TIMEOUT", "120"))


def pytest_configure(config):
    config.addinivalue_line("markers", "ipshare_only: needs the ipshare daemon (skipped in kernel mode)")
    config.addinivalue_line("markers", "leaves_sessions: skip the end-of-module session drain check")
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
            # what `show memory` reports before any traffic: the idle level
            # every test must return to
            self.daemon.idle_memory = memory_used(self.daemon)

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


# ------------------------------------------------------------------ resource accounting
# A router must give back every buffer and forget every flow. The daemon
# reports its pools and tables (`show memory`): the mbufs in use (DPDK's
# rte_mempool_in_use_count, per-lcore caches counted as free) are 0 when
# idle on the af_packet test bed, which allocates a buffer per received frame
# and holds none per descriptor; packets waiting for ARP live at most ~4 s
# (three requests a second apart).

MBUF_SETTLE_SECONDS = 8.0
# syn-in sessions live a fixed 6 s; the others get 1 s timeouts below
SESSION_DRAIN_SECONDS = 15.0
SHORT_TIMEOUTS = ("tcp-established", "tcp-transitory", "udp", "icmp")


def memory_used(daemon):
    """{table or pool name: used} from `show memory`."""
    return {r["name"]: r["used"] for r in daemon.ctl("show", "memory", json=True)["memory"]}


def wait_memory_idle(daemon, timeout=MBUF_SETTLE_SECONDS):
    """Wait (bounded) until mbufs and the ARP queue are back at their idle
    level; return (ok, last reading, idle level)."""
    idle = getattr(daemon, "idle_memory", None) or {"mbufs": 0, "neighbour-queue": 0}
    deadline = time.monotonic() + timeout
    while True:
        used = memory_used(daemon)
        ok = all(used.get(k, 0) <= idle.get(k, 0) for k in ("mbufs", "neighbour-queue"))
        if ok or time.monotonic() >= deadline:
            return ok, used, idle
        time.sleep(0.2)


def drain_sessions(daemon, timeout=SESSION_DRAIN_SECONDS):
    """Shorten the idle timeouts to 1 s at run time, wait (bounded) until the
    session table is empty, then put the timeouts back as they were. Returns
    the session count last seen (0 when drained)."""
    running = daemon.ctl("show", "config", json=True)["statements"]
    saved = [st for st in running if st.split()[0] == "timeout" and st.split()[1] in SHORT_TIMEOUTS]
    for kind in SHORT_TIMEOUTS:
        daemon.ctl("timeout", kind, "1")
    try:
        deadline = time.monotonic() + timeout
        while True:
            n = daemon.ctl("show", "sessions", "count", json=True)["count"]
            if n == 0 or time.monotonic() >= deadline:
                return n
            time.sleep(0.25)
    finally:
        for st in saved:
            daemon.ctl(*st.split())


def _last_of_its_module(item):
    items = item.session.items
    try:
        i = items.index(item)
    except ValueError:
        return True
    return i + 1 >= len(items) or items[i + 1].module is not item.module


@pytest.fixture(autouse=True)
def _resources_come_back(request):
    """After each test that used the ipshare daemon: every mbuf back in the
    pool, no packet left waiting for ARP; after the last test of a module
    (before the module's own fixtures restart the daemon): sessions fall to
    zero once the timeouts run out. A test may opt out with the marker
    `leaves_sessions` (e.g. when it stopped the daemon on purpose)."""
    yield
    r = _ROUTER.get("router")
    if r is None or not r.is_ipshare or "router" not in request.fixturenames:
        return
    if r.daemon is None or not r.daemon.running():
        return  # _daemon_stays_up reports it
    ok, used, idle = wait_memory_idle(r.daemon)
    assert ok, (f"resources not back within {MBUF_SETTLE_SECONDS} s after the test: "
                f"show memory {used}, idle {idle}")
    if _last_of_its_module(request.node) and request.node.get_closest_marker("leaves_sessions") is None:
        left = drain_sessions(r.daemon)
        assert left == 0, (f"{left} sessions still in the table {SESSION_DRAIN_SECONDS} s after the "
                           f"timeouts were set to 1 s (end of {request.node.module.__name__})\n"
                           + r.daemon.ctl("show", "sessions", "limit", "20"))
