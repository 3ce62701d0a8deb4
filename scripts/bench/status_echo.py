"""WhatsApp's side of delivery: a `sent` status webhook for every message the fake Graph API
accepted, naming its wamid and our `biz_opaque_callback_data`, delivered until it gets a 2xx.

The outbox needs them: a reply whose worker died between the Graph API call and recording it
stays `sending` until its status arrives (without one, reconciliation would resend it after
SEND_RECONCILE_SECONDS, as it should when WhatsApp never heard of it).
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import httpx

from channels.simulators.webhooks import sign, status_payload
from scripts.bench.stack import APP_SECRET, Stack


class StatusEcho:
    """Every `every` seconds, one webhook with the statuses of the sends made since the last
    one (WhatsApp sends one status per notification; batching keeps the load of 10,000 of
    them off a 2-core machine, and the wire format allows it)."""

    def __init__(self, stack: Stack, url: str, phone_number_id: str, every: float = 0.5) -> None:
        self.stack = stack
        self.url = f"{url}/webhook"
        self.phone_number_id = phone_number_id
        self.every = every
        self.echoed = 0
        self.webhooks = 0
        self.retries = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="status-echo", daemon=True)

    def start(self) -> StatusEcho:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def drained(self) -> bool:
        with self.stack.graph.lock:
            return self.echoed >= len(self.stack.graph.sent)

    def _run(self) -> None:
        with httpx.Client(timeout=10) as client:
            while not self._stop.wait(self.every):
                with self.stack.graph.lock:
                    new = list(self.stack.graph.sent[self.echoed :])
                if new:
                    self._deliver(client, new)
                    self.echoed += len(new)

    def _deliver(self, client: httpx.Client, sends: list[dict[str, Any]]) -> None:
        body = json.dumps(self._payload(sends)).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Hub-Signature-256": sign(body, APP_SECRET),
        }
        pause = 0.25
        while not self._stop.is_set():
            try:
                if client.post(self.url, content=body, headers=headers).is_success:
                    self.webhooks += 1
                    return
            except httpx.HTTPError:
                pass
            self.retries += 1
            time.sleep(pause)
            pause = min(4.0, pause * 2)

    def _payload(self, sends: list[dict[str, Any]]) -> dict[str, Any]:
        payload = status_payload(
            phone_number_id=self.phone_number_id, wamid="-", status="sent"
        )  # the envelope; its one status is replaced by the batch
        value = payload["entry"][0]["changes"][0]["value"]
        value["statuses"] = [
            status_payload(
                phone_number_id=self.phone_number_id,
                wamid=send["_wamid"],
                status="sent",
                recipient_id=str(send.get("to", "")),
                callback_data=send.get("biz_opaque_callback_data"),
            )["entry"][0]["changes"][0]["value"]["statuses"][0]
            for send in sends
        ]
        return payload
