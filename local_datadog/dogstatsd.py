"""A real DogStatsD receiver: UDP (and optionally a Unix datagram socket) into the metric store.

Why two threads: UDP has no back-pressure, so a datagram the kernel cannot queue is lost. The
receive thread therefore does nothing but drain the sockets into an in-memory queue (one syscall
per datagram, a time marker every burst) while the worker parses and writes in batches, one SQLite
transaction per batch. A large SO_RCVBUF (forced past rmem_max when we run as root) absorbs the
moments when the worker holds the GIL. A datagram is only lost if the queue exceeds its cap
(counted as `dropped`) or the kernel buffer overflows (visible in /proc/net/udp as drops).
"""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import select
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from local_datadog.store import _KIND_CODES, Event, MetricStore, ServiceCheck
from local_datadog.wire import Parser

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8125
DEFAULT_RCVBUF = 32 << 20
MAX_DATAGRAM = 65535
_SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33)  # Linux value; Python does not export it


@dataclass(slots=True)
class ReceiverStats:
    """Live counters of one receiver (the store keeps the persistent totals)."""

    datagrams: int = 0
    bytes: int = 0
    messages: int = 0
    points: int = 0
    events: int = 0
    service_checks: int = 0
    parse_errors: int = 0
    dropped: int = 0
    queued: int = 0
    rcvbuf: int = 0
    write_errors: int = 0

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__slots__}  # type: ignore[attr-defined]


def _grow_rcvbuf(sock: socket.socket, size: int) -> int:
    """Ask for `size` bytes of receive buffer; past rmem_max when allowed (root / CAP_NET_ADMIN)."""
    for option in (_SO_RCVBUFFORCE, socket.SO_RCVBUF):
        try:
            sock.setsockopt(socket.SOL_SOCKET, option, size)
        except OSError:
            continue
        got = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        if got >= size:
            return got
    return sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)


class DogStatsdReceiver:
    """Listens on host:port (UDP; port 0 picks a free one) and optionally a Unix socket path.

    Usage: `r = DogStatsdReceiver(store, port=0).start(); ...; r.wait_idle(); r.stop()`.
    `r.port` is the bound port; `r.stats` holds live counters.
    """

    def __init__(
        self,
        store: MetricStore,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        socket_path: str | Path | None = None,
        udp: bool = True,
        rcvbuf: int = DEFAULT_RCVBUF,
        batch_interval: float = 0.05,
        max_queue: int = 2_000_000,
    ):
        self.store = store
        self.host = host
        self.requested_port = port
        self.socket_path = Path(socket_path) if socket_path else None
        self.udp = udp
        self.rcvbuf = rcvbuf
        self.batch_interval = batch_interval
        self.max_queue = max_queue
        self.stats = ReceiverStats()
        self.last_errors: collections.deque[str] = collections.deque(maxlen=20)
        self.port: int | None = None
        self._sockets: list[socket.socket] = []
        self._queue: collections.deque[bytes | float] = collections.deque()
        self._running = False
        self._wake_r, self._wake_w = os.pipe()
        self._rx: threading.Thread | None = None
        self._worker: threading.Thread | None = None
        self._idle = threading.Condition()
        self._busy = False
        self._dropped_unsaved = 0
        self._parser = Parser()
        self._ids: dict[tuple[str, str], tuple[int, int]] = {}

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> DogStatsdReceiver:
        if self._running:
            return self
        if self.udp:
            family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_DGRAM)
            self.stats.rcvbuf = _grow_rcvbuf(sock, self.rcvbuf)
            try:
                sock.bind((self.host, self.requested_port))
            except OSError as exc:
                sock.close()
                raise OSError(exc.errno, f"cannot listen for DogStatsD on udp://{self.host}:{self.requested_port}: "
                              f"{exc.strerror} (is another agent or stand-in running?)") from None
            sock.setblocking(False)
            self.port = sock.getsockname()[1]
            self._sockets.append(sock)
        if self.socket_path is not None:
            self.socket_path.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileNotFoundError):
                self.socket_path.unlink()
            usock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self.stats.rcvbuf = max(self.stats.rcvbuf, _grow_rcvbuf(usock, self.rcvbuf))
            usock.bind(str(self.socket_path))
            usock.setblocking(False)
            self._sockets.append(usock)
        if not self._sockets:
            raise ValueError("receiver needs UDP or a Unix socket path")
        self._running = True
        self._rx = threading.Thread(target=self._receive_loop, name="dogstatsd-rx", daemon=True)
        self._worker = threading.Thread(target=self._work_loop, name="dogstatsd-worker", daemon=True)
        self._rx.start()
        self._worker.start()
        log.info("DogStatsD receiver on %s", self.address)
        return self

    @property
    def address(self) -> str:
        parts = []
        if self.port is not None:
            parts.append(f"udp://{self.host}:{self.port}")
        if self.socket_path is not None:
            parts.append(f"unix://{self.socket_path}")
        return " ".join(parts)

    def stop(self, drain: bool = True, timeout: float = 10.0) -> None:
        """Stop receiving; with drain=True, everything already read is parsed and stored first."""
        if not self._running:
            return
        self._running = False
        os.write(self._wake_w, b"x")
        if self._rx:
            self._rx.join(timeout)
        if self._worker:
            self._worker.join(timeout)
        if not drain:
            self._queue.clear()
        for sock in self._sockets:
            sock.close()
        self._sockets.clear()
        if self.socket_path is not None:
            with contextlib.suppress(FileNotFoundError):
                self.socket_path.unlink()
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)

    def __enter__(self) -> DogStatsdReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_idle(self, timeout: float = 5.0, settle: float = 0.02) -> bool:
        """Wait until every datagram that reached the socket is stored (tests, flush on exit)."""
        deadline = time.monotonic() + timeout
        quiet = 0
        while time.monotonic() < deadline:
            time.sleep(settle)  # let the kernel hand over anything in flight
            with self._idle:
                if not self._queue and not self._busy and not self._socket_pending():
                    quiet += 1
                    if quiet >= 2:
                        return True
                    continue
                quiet = 0
                self._idle.wait(min(0.05, max(0.0, deadline - time.monotonic())))
        return False

    def _socket_pending(self) -> bool:
        if not self._sockets:
            return False
        try:
            readable, _, _ = select.select(self._sockets, [], [], 0)
        except (OSError, ValueError):
            return False
        return bool(readable)

    # -- threads ---------------------------------------------------------------------------------

    def _receive_loop(self) -> None:
        """Drain the sockets as fast as the kernel hands datagrams over; nothing else."""
        queue = self._queue
        push = queue.append
        stats = self.stats
        clock = time.time
        max_queue = self.max_queue
        watched = [*self._sockets, self._wake_r]
        while self._running:
            try:
                readable, _, _ = select.select(watched, [], [], 0.5)
            except (OSError, ValueError):
                break
            for sock in readable:
                if sock == self._wake_r:
                    continue
                recv = sock.recv  # type: ignore[union-attr]
                while True:
                    push(clock())  # time marker for the datagrams that follow
                    n = 0
                    try:
                        while n < 1024:
                            data = recv(MAX_DATAGRAM)
                            push(data)
                            n += 1
                    except BlockingIOError:
                        pass
                    except OSError as exc:
                        self.last_errors.append(f"recv: {exc}")
                    stats.datagrams += n
                    if len(queue) > max_queue:
                        self._shed()
                    if n < 1024:
                        break
        # Stopping: take what the kernel already holds so a clean stop loses nothing.
        for sock in self._sockets:
            push(clock())
            try:
                while True:
                    push(sock.recv(MAX_DATAGRAM))
                    stats.datagrams += 1
            except OSError:
                pass

    def _shed(self) -> None:
        """The worker cannot keep up: drop the oldest datagrams (counted) rather than grow forever."""
        dropped = 0
        while len(self._queue) > self.max_queue // 2:
            item = self._queue.popleft()
            if not isinstance(item, float):
                dropped += 1
        self.stats.dropped += dropped
        self._dropped_unsaved += dropped
        self.last_errors.append(f"queue full: dropped {dropped} datagrams")

    def _work_loop(self) -> None:
        ts = time.time()
        while True:
            running = self._running
            if not self._queue:
                with self._idle:
                    self._idle.notify_all()
                if not running and not (self._rx and self._rx.is_alive()):
                    break
                time.sleep(self.batch_interval)
                continue
            self._busy = True
            batch = []
            popleft = self._queue.popleft
            try:
                for _ in range(min(len(self._queue), 50_000)):
                    batch.append(popleft())
            except IndexError:
                pass
            try:
                ts = self._process(batch, ts)
            except Exception as exc:  # never let one bad batch stop the receiver
                self.stats.write_errors += 1
                self.last_errors.append(f"write: {type(exc).__name__}: {exc}")
                log.exception("DogStatsD batch failed")
            finally:
                self._busy = False

    def _process(self, batch: list[bytes | float], ts: float) -> float:
        """Parse a batch of datagrams and write it in one transaction. Returns the last time marker."""
        rows = []
        events: list[Event] = []
        checks: list[ServiceCheck] = []
        datagrams = nbytes = messages = errors = 0
        parse = self._parser.parse
        ids = self._ids
        resolve = self.store.resolve
        kinds = _KIND_CODES
        for item in batch:
            if isinstance(item, float):
                ts = item
                continue
            datagrams += 1
            nbytes += len(item)
            result = parse(item)
            messages += result.messages
            if result.errors:
                errors += result.errors
                self.last_errors.extend(result.error_samples)
            for m in result.metrics:
                key = (m.name, m.tags_raw)
                pair = ids.get(key)
                if pair is None:
                    pair = resolve(m.name, m.tags)
                    if len(ids) > 200_000:
                        ids.clear()
                    ids[key] = pair
                mid, cid = pair
                point_ts = m.timestamp or ts
                code = kinds[m.type]
                if m.members is None:
                    for v in m.values:
                        rows.append((mid, point_ts, cid, v, code, m.rate, None))
                else:
                    for member in m.members:
                        rows.append((mid, point_ts, cid, 1.0, code, m.rate, member))
            for e in result.events:
                events.append(Event(e.timestamp or ts, e.title, e.text, dict(e.tags), e.host, e.aggregation_key,
                                    e.priority, e.source_type, e.alert_type))
            for c in result.service_checks:
                checks.append(ServiceCheck(c.timestamp or ts, c.name, c.status, dict(c.tags), c.host, c.message))
        dropped, self._dropped_unsaved = self._dropped_unsaved, 0
        self.store.write_rows(
            rows,
            events=events,
            service_checks=checks,
            counters={"datagrams": datagrams, "bytes": nbytes, "messages": messages,
                      "parse_errors": errors, "dropped": dropped},
        )
        s = self.stats
        s.bytes += nbytes
        s.messages += messages
        s.points += len(rows)
        s.events += len(events)
        s.service_checks += len(checks)
        s.parse_errors += errors
        return ts

    def snapshot(self) -> dict[str, object]:
        """Live counters plus where we listen and the latest problems (for /api/stats)."""
        out: dict[str, object] = self.stats.as_dict()
        out["queued"] = len(self._queue)
        out["address"] = self.address
        out["last_errors"] = list(self.last_errors)
        return out
