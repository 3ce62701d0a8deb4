"""Administration from the shell: merchants, their numbers and staff.

    python scripts/manage.py create-merchant NAME [--phone-number-id ID --access-token TOKEN]
                                             [--waba-id WABA_ID]
    python scripts/manage.py set-waba --merchant-id N --waba-id WABA_ID
    python scripts/manage.py create-templates --merchant-id N [--languages en,es]
    python scripts/manage.py list-templates --merchant-id N [--sync]
    python scripts/manage.py add-number MERCHANT_ID PHONE_NUMBER_ID ACCESS_TOKEN
    python scripts/manage.py add-twilio MERCHANT_ID ACCOUNT_SID AUTH_TOKEN +SENDER
                             [--content-sid NAME=HX...]...  # a Twilio WhatsApp sender
    python scripts/manage.py add-user MERCHANT_ID NAME [--wa-id ID] [--user-id BSUID] [--type admin]
    python scripts/manage.py create-operator NAME [--admin] [--merchant-id ID]  # token shown once
    python scripts/manage.py revoke-operator OPERATOR_ID
    python scripts/manage.py shopify-connect MERCHANT_ID SHOP.myshopify.com ADMIN_TOKEN
                             [--storefront-token T] [--webhook-url https://host/webhooks/shopify]
    python scripts/manage.py shopify-sync MERCHANT_ID [--queue]   # here, or on a worker
    python scripts/manage.py update-merchant MERCHANT_ID [--name N] [--description D] [--tone T]
                             [--language L] [--timezone TZ] [--greeting G] [--ai-rules R]
    python scripts/manage.py onboard-whatsapp --code CODE --waba-id WABA_ID
                             --phone-number-id ID [--merchant-id N] [--pin 123456]
                             # finish Embedded Signup (or refresh the token with a new code)
    python scripts/manage.py list
    python scripts/manage.py generate-key      # a new Fernet key for SECRETS_KEY
    python scripts/manage.py rotate-secrets    # re-encrypt credentials with SECRETS_KEY's first key

Uses DATABASE_URL; when it is unset, the embedded PostgreSQL of the run_server.py running
from the same DATA_DIR (its URL is in DATA_DIR/runtime.json while it runs).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from persistence.models import MessageTemplate

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pydantic import ValidationError

from api.schemas import MerchantUpdate
from persistence.crypto import SecretsKeyError, generate_key, rotate_credentials
from persistence.db import session_scope
from persistence.models import Base, ChannelType
from services.commerce import store as stores
from services.commerce.sync import full_sync
from services.errors import DomainError, InvalidInput
from services.merchants import merchant as merchants
from services.merchants import operator as operators
from services.onboarding.flows import onboard_whatsapp
from services.onboarding.onboarding import OnboardingRequest
from services.templates import templates
from services.templates.defaults import SHIPPED_LANGUAGES


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-merchant", help="create a merchant")
    create.add_argument("name")
    create.add_argument("--description", default="")
    create.add_argument("--tone", default="friendly and concise")
    create.add_argument("--language", default="en")
    create.add_argument("--phone-number-id")
    create.add_argument("--access-token")
    create.add_argument("--display-phone-number")
    create.add_argument("--waba-id", help="WhatsApp Business Account id (for templates)")
    waba = commands.add_parser("set-waba", help="set a merchant's WhatsApp Business Account id")
    waba.add_argument("--merchant-id", type=int, required=True)
    waba.add_argument("--waba-id", required=True)
    submit = commands.add_parser(
        "create-templates", help="submit the message templates to WhatsApp for review"
    )
    submit.add_argument("--merchant-id", type=int, required=True)
    submit.add_argument(
        "--languages", default=",".join(SHIPPED_LANGUAGES),
        help=f"comma-separated language codes (default: {','.join(SHIPPED_LANGUAGES)})",
    )  # fmt: skip
    listed = commands.add_parser("list-templates", help="list a merchant's message templates")
    listed.add_argument("--merchant-id", type=int, required=True)
    listed.add_argument("--sync", action="store_true", help="refresh statuses from WhatsApp first")
    number = commands.add_parser("add-number", help="connect a WhatsApp number to a merchant")
    number.add_argument("merchant_id", type=int)
    number.add_argument("phone_number_id")
    number.add_argument("access_token")
    number.add_argument("--display-phone-number")
    number.add_argument("--catalog-id", help="Meta commerce catalog: products as product cards")
    twilio = commands.add_parser("add-twilio", help="connect a Twilio WhatsApp sender")
    twilio.add_argument("merchant_id", type=int)
    twilio.add_argument("account_sid")
    twilio.add_argument("auth_token")
    twilio.add_argument("sender", help="the sender's number, e.g. +14155238886")
    twilio.add_argument(
        "--content-sid", action="append", default=[], help="TEMPLATE_NAME=HX...: a Content template"
    )
    user = commands.add_parser("add-user", help="add a staff member (admin, sales, returns...)")
    user.add_argument("merchant_id", type=int)
    user.add_argument("name")
    user.add_argument("--wa-id")
    user.add_argument("--user-id")
    user.add_argument("--type", default="admin")
    operator = commands.add_parser("create-operator", help="create an operator; prints its token")
    operator.add_argument("name")
    operator.add_argument(
        "--admin", action="store_true", help="administers their merchant (all, without one)"
    )
    operator.add_argument(
        "--merchant-id", type=int, help="whose data they see; leave out for a platform admin"
    )
    revoke = commands.add_parser("revoke-operator", help="revoke an operator's token")
    revoke.add_argument("operator_id", type=int)
    shop = commands.add_parser("shopify-connect", help="connect a merchant's Shopify store")
    shop.add_argument("merchant_id", type=int)
    shop.add_argument("shop_domain", help="the store's x.myshopify.com domain")
    shop.add_argument("access_token", help="Admin API access token")
    shop.add_argument("--storefront-token")
    shop.add_argument(
        "--webhook-url", help="this server's public POST /webhooks/shopify URL; without it no "
        "webhooks are subscribed and only full syncs keep the catalog fresh",
    )  # fmt: skip
    sync = commands.add_parser("shopify-sync", help="a full sync of a merchant's catalog")
    sync.add_argument("merchant_id", type=int)
    sync.add_argument("--queue", action="store_true", help="leave it to a worker")
    update = commands.add_parser("update-merchant", help="change a merchant's profile")
    update.add_argument("merchant_id", type=int)
    for option in ("name", "description", "tone", "timezone", "greeting", "ai-rules"):
        update.add_argument(f"--{option}")
    update.add_argument("--language", dest="default_language")
    onboard = commands.add_parser(
        "onboard-whatsapp", help="finish Embedded Signup from its code (as the API does)"
    )
    onboard.add_argument("--code", required=True, help="the code Embedded Signup returned")
    onboard.add_argument("--waba-id", required=True)
    onboard.add_argument("--phone-number-id", required=True)
    onboard.add_argument("--merchant-id", type=int, help="join this merchant (else found/new)")
    onboard.add_argument("--pin", help="the number's own two-step verification PIN, if set")
    commands.add_parser("list", help="list merchants, numbers, staff and operators")
    commands.add_parser("generate-key", help="print a new Fernet key for SECRETS_KEY")
    commands.add_parser(
        "rotate-secrets",
        help="re-encrypt every stored credential with the first key of SECRETS_KEY",
    )
    return parser


def run(args: argparse.Namespace) -> str:
    if args.command == "generate-key":
        return generate_key()
    if args.command == "onboard-whatsapp":
        return _onboard(args)
    if args.command == "shopify-sync" and not args.queue:
        return f"sync {full_sync(args.merchant_id)}: {_shopify_state(args.merchant_id)}"
    with session_scope() as session:
        if args.command == "rotate-secrets":
            return _rotate_secrets(session)
        if args.command == "create-merchant":
            merchant = merchants.create_merchant(
                session, name=args.name, description=args.description, tone=args.tone,
                default_language=args.language, whatsapp_business_account_id=args.waba_id,
            )  # fmt: skip
            if args.phone_number_id and args.access_token:
                merchants.add_phone_number(
                    session, merchant_id=merchant.id, phone_number_id=args.phone_number_id,
                    access_token=args.access_token, display_phone_number=args.display_phone_number,
                )  # fmt: skip
            return f"merchant {merchant.id} created"
        if args.command == "add-number":
            phone = merchants.add_phone_number(
                session, merchant_id=args.merchant_id, phone_number_id=args.phone_number_id,
                access_token=args.access_token, display_phone_number=args.display_phone_number,
                catalog_id=args.catalog_id,
            )  # fmt: skip
            return f"number {phone.phone_number_id} added to merchant {args.merchant_id}"
        if args.command == "add-user":
            user = merchants.add_merchant_user(
                session, merchant_id=args.merchant_id, name=args.name, wa_id=args.wa_id,
                user_id=args.user_id, type=args.type,
            )  # fmt: skip
            return f"user {user.id} ({user.type}) added to merchant {args.merchant_id}"
        if args.command == "create-operator":
            created, token = operators.create_operator(
                session, name=args.name, is_admin=args.admin, merchant_id=args.merchant_id
            )
            return f"operator {created.id} created; token (shown once): {token}"
        if args.command == "revoke-operator":
            revoked = operators.revoke_operator(session, args.operator_id)
            return f"operator {revoked.id} revoked"
        if args.command in _SESSION_COMMANDS:
            return _SESSION_COMMANDS[args.command](session, args)
        return _listing(session)


def _onboard(args: argparse.Namespace) -> str:
    """The API's onboarding service; a failed step is an error naming it (exit 1)."""
    request = OnboardingRequest(
        code=args.code, waba_id=args.waba_id, phone_number_id=args.phone_number_id,
        merchant_id=args.merchant_id, pin=args.pin,
    )  # fmt: skip
    result = onboard_whatsapp(request)
    if result.failure is not None:
        raise DomainError(result.failure.message)
    view = result.view
    return (
        f"number {view.phone_number_id} ({view.display_phone_number or 'no display number'}, "
        f"{view.verified_name or 'no verified name'}) onboarded to merchant {view.merchant_id}; "
        f"quality {view.quality_rating or 'unknown'}"
    )


def _update_merchant(session: Session, args: argparse.Namespace) -> str:
    fields = ("name", "description", "tone", "default_language", "timezone", "greeting", "ai_rules")
    given = {f: getattr(args, f) for f in fields if getattr(args, f) is not None}
    try:
        changes = MerchantUpdate.model_validate(given).model_dump(exclude_unset=True)
    except ValidationError as exc:
        raise InvalidInput("; ".join(f"{e['loc'][0]}: {e['msg']}" for e in exc.errors())) from None
    if not changes:
        raise InvalidInput("nothing to change: give --name, --description, --tone...")
    merchant = merchants.update_merchant(session, args.merchant_id, changes)
    return f"merchant {merchant.id} updated: {', '.join(sorted(changes))}"


def _rotate_secrets(session: Session) -> str:
    rotation = rotate_credentials(session.connection(), list(Base.metadata.tables.values()))
    return (
        f"re-encrypted {rotation.rotated} credential(s) with the first key of SECRETS_KEY "
        f"({', '.join(rotation.columns)}); the other keys can now be removed"
    )


def _set_waba(session: Session, args: argparse.Namespace) -> str:
    merchant = merchants.set_business_account(session, args.merchant_id, args.waba_id)
    return f"merchant {merchant.id} uses WhatsApp Business Account {args.waba_id}"


def _create_templates(session: Session, args: argparse.Namespace) -> str:
    languages = [code.strip() for code in args.languages.split(",") if code.strip()]
    rows = templates.create_templates(session, merchant_id=args.merchant_id, languages=languages)
    return _template_lines(rows)


def _list_templates(session: Session, args: argparse.Namespace) -> str:
    if args.sync:
        return _template_lines(templates.sync_templates(session, merchant_id=args.merchant_id))
    return _template_lines(templates.list_templates(session, args.merchant_id))


def _template_lines(rows: list[MessageTemplate]) -> str:
    lines = [
        f"{row.name} {row.language} {row.status}"
        + (f" ({row.status_reason})" if row.status_reason else "")
        + f"  role={row.role or 'merchant'} id={row.meta_template_id or '-'}"
        for row in rows
    ]
    return "\n".join(lines) or "no templates yet (create-templates submits them)"


def _shopify_connect(session: Session, args: argparse.Namespace) -> str:
    connection = stores.Connection(
        shop_domain=args.shop_domain, access_token=args.access_token,
        storefront_access_token=args.storefront_token,
    )  # fmt: skip
    store = stores.connect(
        session, merchant_id=args.merchant_id, connection=connection, webhook_url=args.webhook_url
    )
    return (
        f"{store.shop_domain} ({store.shop_name}, {store.currency}, {store.primary_locale}) "
        f"connected to merchant {args.merchant_id}; a full sync is queued"
    )


def _shopify_queue_sync(session: Session, args: argparse.Namespace) -> str:
    stores.request_sync(session, stores.get_store(session, args.merchant_id))
    return f"full sync of merchant {args.merchant_id}'s store queued"


def _shopify_state(merchant_id: int) -> str:
    with session_scope() as session:
        store = stores.get_store(session, merchant_id)
        error = f", error: {store.sync_error}" if store.sync_error else ""
        return (
            f"{store.sync_status}, {store.sync_products_done}/{store.sync_products_total} "
            f"products{error}"
        )


def _add_twilio(session: Session, args: argparse.Namespace) -> str:
    sids = dict(pair.split("=", 1) for pair in args.content_sid if "=" in pair)
    account = merchants.add_phone_number(
        session, merchant_id=args.merchant_id, type=ChannelType.TWILIO_WHATSAPP,
        phone_number_id=args.sender, access_token=args.auth_token,
        display_phone_number=args.sender, account_sid=args.account_sid, content_sids=sids or None,
    )  # fmt: skip
    return f"Twilio sender {account.phone_number_id} added to merchant {args.merchant_id}"


_SESSION_COMMANDS: dict[str, Callable[[Session, argparse.Namespace], str]] = {
    "add-twilio": _add_twilio,
    "shopify-connect": _shopify_connect,
    "shopify-sync": _shopify_queue_sync,
    "set-waba": _set_waba,
    "create-templates": _create_templates,
    "list-templates": _list_templates,
    "update-merchant": _update_merchant,
}


def _listing(session: object) -> str:
    lines = []
    for merchant in merchants.list_merchants(session):  # type: ignore[arg-type]
        waba = merchant.whatsapp_business_account_id
        lines.append(f"{merchant.id}: {merchant.name}" + (f" (waba {waba})" if waba else ""))
        for phone in merchants.phone_numbers_of(session, merchant.id):  # type: ignore[arg-type]
            kind = "number" if phone.type == ChannelType.WHATSAPP_CLOUD else phone.type
            lines.append(f"    {kind} {phone.phone_number_id} {phone.display_phone_number or ''}")
        for user in merchants.list_merchant_users(session, merchant.id):  # type: ignore[arg-type]
            lines.append(f"    {user.type} {user.name} wa_id={user.wa_id} user_id={user.user_id}")
    for op in operators.list_operators(session):  # type: ignore[arg-type]
        state = "revoked" if op.revoked_at else ("admin" if op.is_admin else "operator")
        scope = f"merchant {op.merchant_id}" if op.merchant_id else "all merchants"
        lines.append(f"operator {op.id}: {op.name} ({state}, {scope})")
    return "\n".join(lines) or "no merchants yet"


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        print(run(args))
    except DomainError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    except SecretsKeyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
