"""Channel accounts of a merchant: WhatsApp Cloud numbers, Twilio WhatsApp senders and
Instagram accounts. Admin credentials; a merchant's admin manages their own merchant's."""

from fastapi import APIRouter, Response, status

from api.channel_schemas import (
    ChannelCreate,
    ChannelRead,
    ChannelUpdate,
    InstagramCreate,
    TwilioWhatsAppCreate,
)
from api.deps import AdminDep, SessionDep
from services.merchants import channel as channels
from services.merchants import merchant as merchants

router = APIRouter(prefix="/api/v1", tags=["administration"])


@router.post("/merchants/{merchant_id}/channels", status_code=status.HTTP_201_CREATED)
def add_channel(
    merchant_id: int, body: ChannelCreate, session: SessionDep, _: AdminDep
) -> ChannelRead:
    """Connect a channel account. The credential (access token or Twilio auth token) is
    stored encrypted and never shown again; the same account twice is a 409."""
    if isinstance(body, TwilioWhatsAppCreate):
        account = channels.add_channel(
            session, merchant_id=merchant_id, type=body.type, external_id=body.sender,
            secret=body.auth_token, display_name=body.sender, account_sid=body.account_sid,
            content_sids=body.content_sids,
        )  # fmt: skip
    elif isinstance(body, InstagramCreate):
        account = channels.add_channel(
            session, merchant_id=merchant_id, type=body.type,
            external_id=body.instagram_account_id, secret=body.access_token,
            display_name=body.username,
        )  # fmt: skip
    else:
        account = channels.add_channel(
            session, merchant_id=merchant_id, type=body.type, external_id=body.phone_number_id,
            secret=body.access_token, display_name=body.display_phone_number,
        )  # fmt: skip
        if body.waba_id:
            merchants.set_business_account(session, merchant_id, body.waba_id)
    return ChannelRead.of(account)


@router.get("/merchants/{merchant_id}/channels")
def list_channels(
    merchant_id: int, session: SessionDep, _: AdminDep, type: str | None = None
) -> list[ChannelRead]:
    """The merchant's channel accounts (optionally one `type`); credentials never shown."""
    return [ChannelRead.of(a) for a in channels.list_channels(session, merchant_id, type=type)]


@router.get("/merchants/{merchant_id}/channels/{channel_id}")
def read_channel(
    merchant_id: int, channel_id: int, session: SessionDep, _: AdminDep
) -> ChannelRead:
    account = channels.get_channel(session, merchant_id=merchant_id, channel_id=channel_id)
    return ChannelRead.of(account)


@router.patch("/merchants/{merchant_id}/channels/{channel_id}")
def update_channel(
    merchant_id: int, channel_id: int, body: ChannelUpdate, session: SessionDep, _: AdminDep
) -> ChannelRead:
    """Replace a credential (stored encrypted, never echoed) or the account's details."""
    account = channels.update_channel(
        session, merchant_id=merchant_id, channel_id=channel_id, changes=body.changes()
    )
    return ChannelRead.of(account)


@router.delete(
    "/merchants/{merchant_id}/channels/{channel_id}", status_code=status.HTTP_204_NO_CONTENT
)
def delete_channel(
    merchant_id: int, channel_id: int, session: SessionDep, _: AdminDep, force: bool = False
) -> Response:
    """Disconnect an account. Its conversations go with it, so an account that has
    conversations is refused with 409 unless `force=true`."""
    channels.delete_channel(session, merchant_id=merchant_id, channel_id=channel_id, force=force)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
