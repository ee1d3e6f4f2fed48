"""A small asyncio TCP proxy between a laptop and PostgreSQL that misbehaves on request.

Modes (``set_mode``): ``pass``; ``refuse`` (new connections are closed at once); ``reset``
(every open connection is aborted now: both sides get a RST); ``blackhole`` (bytes are read and
dropped, sockets stay open — what a dead router does; keepalives would be answered by this
proxy's kernel, so only an application timeout notices); ``throttle`` (a bandwidth limit in
bytes per second, both directions); ``cut_after`` (abort every connection once it has carried
``n`` more bytes). ``reset_every`` aborts open connections on a timer (the slow scenarios).

All on 127.0.0.1, in a daemon thread with its own event loop; ``stats`` counts bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from dataclasses import dataclass, field


@dataclass
class ProxyStats:
    connections: int = 0
    bytes_up: int = 0
    bytes_down: int = 0


@dataclass
class _Pair:
    client: asyncio.StreamWriter
    server: asyncio.StreamWriter
    carried: int = 0

    def abort(self) -> None:
        for writer in (self.client, self.server):
            transport = writer.transport
            if transport is not None:
                transport.abort()


@dataclass
class FaultProxy:
    target_port: int
    target_host: str = "127.0.0.1"
    port: int = 0
    mode: str = "pass"
    bytes_per_second: int = 0
    cut_bytes: int = 0
    stats: ProxyStats = field(default_factory=ProxyStats)
    _loop: asyncio.AbstractEventLoop | None = None
    _pairs: set[int] = field(default_factory=set)
    _open: dict[int, _Pair] = field(default_factory=dict)
    _resetter: asyncio.Task[None] | None = None

    def start(self) -> int:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            server = loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0))
            self.port = server.sockets[0].getsockname()[1]
            ready.set()
            loop.run_forever()
            server.close()
            loop.run_until_complete(server.wait_closed())
            loop.close()

        threading.Thread(target=run, daemon=True, name="fault-proxy").start()
        if not ready.wait(10):
            raise RuntimeError("the fault proxy did not start")
        return self.port

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._abort_all)
            self._loop.call_soon_threadsafe(self._loop.stop)

    def set_mode(self, mode: str, *, bytes_per_second: int = 0, cut_bytes: int = 0) -> None:
        self.mode = mode
        self.bytes_per_second = bytes_per_second
        self.cut_bytes = cut_bytes
        if mode == "reset" and self._loop is not None:
            self._loop.call_soon_threadsafe(self._abort_all)
        if mode == "cut_after":
            for pair in list(self._open.values()):
                pair.carried = 0

    def reset_every(self, seconds: float) -> None:
        """Abort every open connection every ``seconds`` (0 stops it)."""
        assert self._loop is not None

        async def loop() -> None:
            while True:
                await asyncio.sleep(seconds)
                self._abort_all()

        def arm() -> None:
            if self._resetter is not None:
                self._resetter.cancel()
                self._resetter = None
            if seconds > 0:
                self._resetter = asyncio.ensure_future(loop())

        self._loop.call_soon_threadsafe(arm)

    def _abort_all(self) -> None:
        for pair in list(self._open.values()):
            pair.abort()
        self._open.clear()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.mode == "refuse":
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(self.target_host, self.target_port)
        except OSError:
            writer.transport.abort()
            return
        self.stats.connections += 1
        pair = _Pair(writer, up_writer)
        key = id(pair)
        self._open[key] = pair
        await asyncio.gather(
            self._pump(reader, up_writer, pair, up=True),
            self._pump(up_reader, writer, pair, up=False),
            return_exceptions=True,
        )
        self._open.pop(key, None)
        pair.abort()

    async def _pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, pair: _Pair, *, up: bool
    ) -> None:
        while True:
            data = await reader.read(16384)
            if not data:
                with contextlib.suppress(OSError):
                    writer.close()
                return
            if self.mode == "blackhole":
                continue
            if self.mode == "reset":
                pair.abort()
                return
            if self.mode == "throttle" and self.bytes_per_second > 0:
                await asyncio.sleep(len(data) / self.bytes_per_second)
            pair.carried += len(data)
            if self.mode == "cut_after" and pair.carried > self.cut_bytes:
                pair.abort()
                return
            if up:
                self.stats.bytes_up += len(data)
            else:
                self.stats.bytes_down += len(data)
            writer.write(data)
            await writer.drain()
