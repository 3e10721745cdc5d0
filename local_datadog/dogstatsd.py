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
import math
import os
import select
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from local_datadog.store import Event, MetricStore, ServiceCheck
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


def _udp_addresses(host: str, port: int) -> list[tuple[socket.AddressFamily, str]]:
    """Every address a client may pick for `host`: "localhost" can mean 127.0.0.1 and ::1, and
    the datadog client connects to whichever getaddrinfo returns first."""
    if host in {"", "0.0.0.0", "::"} or ":" in host or host.replace(".", "").isdigit():
        return [(socket.AF_INET6 if ":" in host else socket.AF_INET, host)]
    out: list[tuple[socket.AddressFamily, str]] = []
    for family, _, _, _, sockaddr in socket.getaddrinfo(host, port, 0, socket.SOCK_DGRAM):
        if family in (socket.AF_INET, socket.AF_INET6) and (family, sockaddr[0]) not in out:
            out.append((family, sockaddr[0]))
    return out or [(socket.AF_INET, "127.0.0.1")]


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
        self._wake_r = self._wake_w = -1
        self._rx: threading.Thread | None = None
        self._worker: threading.Thread | None = None
        self._idle = threading.Condition()
        self._busy = False
        self._dropped_unsaved = 0
        self._parser = Parser()
        # (name, '|type|@rate|#tags' suffix) -> (metric id, context id, count scale)
        self._fast: dict[tuple[str, str], tuple[int, int, float]] = {}

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> DogStatsdReceiver:
        if self._running:
            return self
        if self.udp:
            port = self.requested_port
            for family, address in _udp_addresses(self.host, port):
                sock = socket.socket(family, socket.SOCK_DGRAM)
                self.stats.rcvbuf = max(self.stats.rcvbuf, _grow_rcvbuf(sock, self.rcvbuf))
                try:
                    sock.bind((address, port if self.port is None else self.port))
                except OSError as exc:
                    sock.close()
                    self._close_sockets()
                    raise OSError(exc.errno, f"cannot listen for DogStatsD on udp://{address}:{port}: "
                                  f"{exc.strerror} (is another agent or stand-in running?)") from None
                sock.setblocking(False)
                if self.port is None:
                    self.port = sock.getsockname()[1]
                self._sockets.append(sock)
        if self.socket_path is not None:
            self.socket_path.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileNotFoundError):
                self.socket_path.unlink()
            usock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self.stats.rcvbuf = max(self.stats.rcvbuf, _grow_rcvbuf(usock, self.rcvbuf))
            try:
                usock.bind(str(self.socket_path))
            except OSError as exc:
                usock.close()
                self._close_sockets()
                raise OSError(exc.errno, f"cannot listen for DogStatsD on unix://{self.socket_path}: "
                              f"{exc.strerror}") from None
            usock.setblocking(False)
            self._sockets.append(usock)
        if not self._sockets:
            raise ValueError("receiver needs UDP or a Unix socket path")
        self._wake_r, self._wake_w = os.pipe()
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
        if not drain:
            self._queue.clear()
        if self._worker:
            self._worker.join(timeout)
        self._close_sockets()
        if self.socket_path is not None:
            with contextlib.suppress(FileNotFoundError):
                self.socket_path.unlink()
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)

    def _close_sockets(self) -> None:
        for sock in self._sockets:
            sock.close()
        self._sockets.clear()

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
        """Parse a batch of datagrams and write it in one transaction. Returns the last time marker.

        Fast path: a plain single-value line whose `name|type|@rate|#tags` suffix was seen before
        costs two partitions, a dict lookup and a float(). Everything else (events, service checks,
        multi-value packing, sets, client timestamps, errors) goes through the full wire parser.
        """
        rows: list[tuple[int, float, int, float | str]] = []
        events: list[Event] = []
        checks: list[ServiceCheck] = []
        datagrams = nbytes = messages = errors = 0
        fast = self._fast
        push = rows.append
        for item in batch:
            if isinstance(item, float):
                ts = item
                continue
            datagrams += 1
            nbytes += len(item)
            try:
                text = item.decode("utf-8")
            except UnicodeDecodeError:
                m, e = self._slow(item, ts, rows, events, checks)
                messages += m
                errors += e
                continue
            for line in text.split("\n") if "\n" in text else (text,):
                head, _, rest = line.partition("|")
                name, _, raw = head.partition(":")
                entry = fast.get((name, rest))
                if entry is not None and ":" not in raw:
                    try:
                        value = float(raw)
                    except ValueError:
                        value = math.nan
                    if value - value == 0.0:  # finite
                        push((entry[0], ts, entry[1], value * entry[2]))
                        messages += 1
                        continue
                if not line or line == "\r":
                    continue
                m, e = self._slow(line, ts, rows, events, checks)
                messages += m
                errors += e
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

    def _slow(
        self,
        data: bytes | str,
        ts: float,
        rows: list[tuple[int, float, int, float | str]],
        events: list[Event],
        checks: list[ServiceCheck],
    ) -> tuple[int, int]:
        """Full parse of a datagram or line; learns fast-path entries. Returns (messages, errors)."""
        result = self._parser.parse(data)
        if result.errors:
            self.last_errors.extend(result.error_samples)
        for m in result.metrics:
            mid, cid = self.store.resolve(m.name, m.tags, m.type, m.rate)
            point_ts = m.timestamp or ts
            if m.members is not None:
                rows.extend((mid, point_ts, cid, member) for member in m.members)
                continue
            rows.extend((mid, point_ts, cid, v) for v in m.values)
            if m.timestamp is None and isinstance(data, str) and "\n" not in data:
                # Cache by the exact suffix so the next identical line takes the fast path.
                suffix = data.partition("|")[2]
                scale = 1.0 / m.rate if m.type == "count" else 1.0
                if len(self._fast) > 200_000:
                    self._fast.clear()
                self._fast[(m.name, suffix)] = (mid, cid, scale)
        for e in result.events:
            events.append(Event(e.timestamp or ts, e.title, e.text, dict(e.tags), e.host, e.aggregation_key,
                                e.priority, e.source_type, e.alert_type))
        for c in result.service_checks:
            checks.append(ServiceCheck(c.timestamp or ts, c.name, c.status, dict(c.tags), c.host, c.message))
        return result.messages, result.errors

    def snapshot(self) -> dict[str, object]:
        """Live counters plus where we listen and the latest problems (for /api/stats)."""
        out: dict[str, object] = self.stats.as_dict()
        out["queued"] = len(self._queue)
        out["address"] = self.address
        out["last_errors"] = list(self.last_errors)
        return out
