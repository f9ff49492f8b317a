"""Our events follow nameko's wire conventions: a real `nameko run` service receives them."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

from crm_devrun.probes import queues_exist, wait_until

HERE = Path(__file__).resolve().parent.parent / "nameko_automation"
NAMEKO_QUEUE = "evt-contacts-contact_created--crm_automation_test.on_contact_created"


def test_a_nameko_event_handler_receives_contact_created(platform, api, tmp_path) -> None:
    out = tmp_path / "received.jsonl"
    nameko = Path(sys.executable).parent / "nameko"
    process = subprocess.Popen(
        [str(nameko), "run", "automation", "--broker", platform.config.amqp_url],
        cwd=HERE,
        env={**os.environ, "CRM_NAMEKO_OUT": str(out), "PYTHONWARNINGS": "ignore"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until(
            lambda: process.poll() is not None or queues_exist(platform.config.amqp_url, [NAMEKO_QUEUE]),
            timeout=30,
            what="the nameko service to declare its queue",
        )
        assert process.poll() is None, process.stdout.read().decode() if process.stdout else ""
        email = f"nameko-{secrets.token_hex(4)}@example.com"
        contact = api.create_contact(first_name="Nam", last_name="Eko", email=email, company="Automations")
        wait_until(
            lambda: out.exists() and contact["id"] in out.read_text(), timeout=15, what="nameko delivery"
        )
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
    payloads = [json.loads(line) for line in out.read_text().splitlines()]
    [payload] = [p for p in payloads if p["contact_id"] == contact["id"]]
    assert payload["email"] == email
    assert payload["company"] == "Automations"
    assert payload["created_at"].endswith("Z")
