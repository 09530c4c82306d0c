"""Connection time-outs uvicorn lacks: a request's headers, and its body, must keep coming.

uvicorn closes a keep-alive connection that stays silent, but a client that sends half a
request line (or trickles its headers, or stops in the middle of a body) holds its
connection forever. :class:`TimedH11Protocol` is uvicorn's h11 protocol plus two timers:

- the request line and headers must be complete within ``header_seconds`` of the
  connection opening (or of the previous response), else the connection is closed;
- while a body is being received, ``body_idle_seconds`` without a byte closes it (the
  application sees the client disconnect). Time the server itself stops reading (flow
  control) does not count.
"""

from __future__ import annotations

import asyncio

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

HEADER_SECONDS = 10.0
"""Time a client has to send a request line and headers."""
BODY_IDLE_SECONDS = 30.0
"""Longest silence while a request body is being received."""


class TimedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with header and body read time-outs."""

    header_seconds = HEADER_SECONDS
    body_idle_seconds = BODY_IDLE_SECONDS
    _read_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Start the header clock as the connection opens."""
        super().connection_made(transport)
        self._watch()

    def data_received(self, data: bytes) -> None:
        """Hand the bytes to h11, then re-arm the clock for what is awaited next."""
        super().data_received(data)
        self._watch(fresh_body=True)

    def on_response_complete(self) -> None:
        """After a response, the next request's headers are on the clock."""
        super().on_response_complete()
        self._watch()

    def connection_lost(self, exc: Exception | None) -> None:
        """Stop the clock with the connection."""
        self._stop()
        super().connection_lost(exc)

    def _watch(self, fresh_body: bool = False) -> None:
        """Arm the timer for the current state: headers (kept running), body (re-armed)."""
        if self.transport is None or self.transport.is_closing():
            self._stop()
            return
        state = self.conn.their_state
        if state is h11.IDLE:
            if self._read_timer is None:
                self._arm(self.header_seconds)
        elif state is h11.SEND_BODY:
            if fresh_body or self._read_timer is None:
                self._stop()
                self._arm(self.body_idle_seconds)
        else:
            self._stop()

    def _arm(self, seconds: float) -> None:
        self._read_timer = self.loop.call_later(seconds, self._expired)

    def _stop(self) -> None:
        if self._read_timer is not None:
            self._read_timer.cancel()
            self._read_timer = None

    def _expired(self) -> None:
        """Close a connection whose client stalled; wait while the server paused reading."""
        self._read_timer = None
        if self.transport.is_closing():
            return
        state = self.conn.their_state
        if state is h11.SEND_BODY and self.flow.read_paused:
            self._arm(self.body_idle_seconds)
            return
        if state is h11.IDLE and self.cycle is not None and not self.cycle.response_complete:
            return  # a response is still being sent; on_response_complete re-arms
        if state in (h11.IDLE, h11.SEND_BODY):
            self.logger.info("Closing a connection whose client stopped sending (%s)",
                             "headers" if state is h11.IDLE else "body")
            self.transport.close()
