"""The WhatsApp sandbox's numbers and people, and a local console login.

Every merchant gets its own sandbox number (on first use), whose Graph API is the
sandbox's own fake: its operators play that merchant's customers or its admin (a merchant
user, so theirs is an admin conversation), and the turns run with that merchant's AI
profile, knowledge and catalog. Platform operators pick a merchant, or use the demo
merchant, which has a demo store. Nothing is created until the sandbox is used.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import redis
from sqlalchemy import select
from sqlalchemy.orm import Session

from persistence.models import Operator, PhoneNumber
from services.access.auth import hash_token
from services.errors import Conflict, NotFound
from services.merchants.merchant import (
    add_merchant_user,
    add_phone_number,
    create_merchant,
    find_merchant_user,
    find_phone_number,
    get_merchant,
)
from services.merchants.operator import create_operator
from services.sandbox import phone as sandbox_phone
from services.sandbox.channels import INSTAGRAM_CUSTOMER, TWILIO_CUSTOMER, ensure_channels
from services.sandbox.demo_store import ensure_demo_store
from services.sandbox.phone import Persona
from settings import SANDBOX_TOKEN_PREFIX, get_settings

log = logging.getLogger(__name__)

PHONE_NUMBER_ID = "100000000000001"
WABA_ID = "100000000000999"
DISPLAY_PHONE_NUMBER = "15550100000"
# a merchant's own sandbox number: this prefix, then the merchant id on 8 digits
MERCHANT_NUMBER_PREFIX = "1000002"
MERCHANT_NAME = "Sandbox Running Co."
MERCHANT_DESCRIPTION = (
    "A demo shop in the WhatsApp sandbox. We sell running shoes (sizes 36 to 47) and "
    "accessories; shipping takes 2 to 4 working days; returns are free within 30 days."
)
DEFAULT_CUSTOMER = Persona(wa_id="15550100001", name="Ana Customer", role="customer")
ADMIN = Persona(wa_id="15550100099", name="Sam Admin", role="admin")
LOCAL_OPERATOR_NAME = "Local console"


@dataclass(frozen=True)
class SandboxNumber:
    merchant_id: int
    merchant_name: str
    phone_id: int
    phone_number_id: str
    display_phone_number: str
    access_token: str
    demo: bool  # the demo merchant's (with its demo store), not a real merchant's


def sandbox_merchant(own: int | None, requested: int | None) -> int | None:
    """Whose sandbox the caller opens: a merchant's operator always their own merchant's
    (asking for another's is a NotFound, as for any of its objects); a platform operator
    the merchant they pick, or the demo merchant (None)."""
    if own is None:
        return requested
    if requested is not None and requested != own:
        raise NotFound("no such sandbox")
    return own


def ensure_sandbox(session: Session, merchant_id: int | None = None) -> SandboxNumber:
    """The sandbox number of `merchant_id` (None: the demo merchant's) and its admin
    persona, created on first use. A merchant's own sandbox number is theirs like any
    channel account, so its turns run with that merchant's AI profile, knowledge and
    catalog; the demo merchant also gets its demo store."""
    demo = find_phone_number(session, PHONE_NUMBER_ID)
    if merchant_id is None or (demo is not None and demo.merchant_id == merchant_id):
        phone = demo or _add_number(session, PHONE_NUMBER_ID, None, DISPLAY_PHONE_NUMBER)
        ensure_channels(session, phone.merchant_id)  # Tom on Twilio, Ivy on Instagram
        if get_settings().sandbox_active:  # its demo store answers only while the sandbox runs
            ensure_demo_store(session, phone.merchant_id)
    else:
        get_merchant(session, merchant_id)  # NotFound for an unknown merchant
        own_id = f"{MERCHANT_NUMBER_PREFIX}{merchant_id:08d}"
        phone = find_phone_number(session, own_id) or _add_number(
            session, own_id, merchant_id, f"1555020{merchant_id:04d}"
        )
    _ensure_admin(session, phone.merchant_id)
    return _number(session, phone)


def _ensure_admin(session: Session, merchant_id: int) -> None:
    if find_merchant_user(session, merchant_id=merchant_id, wa_id=ADMIN.wa_id, user_id=None):
        return
    with contextlib.suppress(Conflict):  # a concurrent first visit added them
        add_merchant_user(
            session, merchant_id=merchant_id, name=ADMIN.name, wa_id=ADMIN.wa_id, type="admin"
        )


def _add_number(
    session: Session, phone_number_id: str, merchant_id: int | None, display: str
) -> PhoneNumber:
    """A sandbox number (a made-up token the fake Graph API knows) for the merchant, or
    for a new demo merchant when None."""
    try:
        with session.begin_nested():
            if merchant_id is None:
                merchant_id = create_merchant(
                    session, name=MERCHANT_NAME, description=MERCHANT_DESCRIPTION
                ).id
            phone = add_phone_number(
                session,
                merchant_id=merchant_id,
                phone_number_id=phone_number_id,
                access_token=SANDBOX_TOKEN_PREFIX + secrets.token_urlsafe(24),
                display_phone_number=display,
            )
            session.flush()
    except Conflict:  # a concurrent first visit created it
        found = find_phone_number(session, phone_number_id)
        assert found is not None
        return found
    log.info("sandbox.created merchant_id=%s phone_number_id=%s", merchant_id, phone_number_id)
    return phone


def _number(session: Session, phone: PhoneNumber) -> SandboxNumber:
    return SandboxNumber(
        merchant_id=phone.merchant_id,
        merchant_name=get_merchant(session, phone.merchant_id).name,
        phone_id=phone.id,
        phone_number_id=phone.phone_number_id,
        display_phone_number=phone.display_phone_number or DISPLAY_PHONE_NUMBER,
        access_token=phone.access_token,
        demo=phone.phone_number_id == PHONE_NUMBER_ID,
    )


def people(client: redis.Redis, number: SandboxNumber) -> list[Persona]:
    """Who can be played: the admin, the default customer, any customer added and, in the
    demo merchant's sandbox (which alone has the made-up Twilio and Instagram accounts), a
    customer on Twilio and one on Instagram."""
    elsewhere = (TWILIO_CUSTOMER, INSTAGRAM_CUSTOMER) if number.demo else ()
    fixed = (DEFAULT_CUSTOMER, *elsewhere)
    added = [
        p for p in sandbox_phone.personas(client, number.phone_number_id)
        if p.wa_id not in {ADMIN.wa_id, *(f.wa_id for f in fixed)}
    ]  # fmt: skip
    return [*fixed, *added, ADMIN]


def find_person(client: redis.Redis, number: SandboxNumber, wa_id: str) -> Persona | None:
    return next((p for p in people(client, number) if p.wa_id == wa_id), None)


def add_customer(client: redis.Redis, number: SandboxNumber, name: str) -> Persona:
    """A new customer with a fresh test number (555-01xx-xxxx: never a real phone)."""
    taken = {p.wa_id for p in people(client, number)}
    while True:
        wa_id = f"155501{secrets.randbelow(10**5):05d}"
        if wa_id not in taken:
            break
    persona = Persona(wa_id=wa_id, name=name.strip()[:60] or "New customer", role="customer")
    sandbox_phone.save_persona(client, number.phone_number_id, persona)
    return persona


def real_numbers(session: Session) -> list[str]:
    """The business numbers whose access token is not a sandbox one: real WhatsApp numbers,
    whose replies the sandbox's fake Graph API would swallow."""
    tokens = session.execute(select(PhoneNumber.phone_number_id, PhoneNumber.access_token))
    return [number for number, token in tokens if not token.startswith(SANDBOX_TOKEN_PREFIX)]


def token_owner(session: Session, phone_number_id: str | None, token: str) -> PhoneNumber | None:
    """The business number a Graph API bearer token belongs to (any, when not named).
    Tokens are stored encrypted (randomised), so they are compared here, not in SQL."""
    stmt = select(PhoneNumber).order_by(PhoneNumber.id)
    if phone_number_id:
        stmt = stmt.where(PhoneNumber.phone_number_id == phone_number_id)
    asked = token.encode()
    for number in session.scalars(stmt):
        # "" is a token no key decrypts (secrets.undecryptable): it belongs to nobody
        if number.access_token and hmac.compare_digest(number.access_token.encode(), asked):
            return number
    return None


def ensure_local_operator(session: Session, token_file: Path) -> Path:
    """An admin operator for signing in to the local console, its token in `token_file`
    (readable by this user only); kept across restarts while it stays valid."""
    if token_file.exists():
        token = token_file.read_text().strip()
        valid = session.scalar(
            select(Operator.id).where(
                Operator.token_hash == hash_token(token), Operator.revoked_at.is_(None)
            )
        )
        if valid is not None:
            return token_file
    _, token = create_operator(session, name=LOCAL_OPERATOR_NAME, is_admin=True)
    token_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(token + "\n")
    return token_file
