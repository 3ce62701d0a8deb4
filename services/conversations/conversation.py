"""Customers and their conversations with a business number."""

from __future__ import annotations

from functools import cache
from typing import cast

from sqlalchemy import Select, Table, and_, bindparam, false, or_, select, true
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.elements import BindParameter, ColumnElement

from persistence.models import ChannelType, Conversation, Customer, Message, PhoneNumber
from services.errors import NotFound

Comparand = str | BindParameter[str]  # a value, or a bound parameter of a cached statement
_CUSTOMERS = cast(Table, Customer.__table__)  # Core columns: usable in Core and ORM statements


def upsert_customer(
    session: Session,
    *,
    merchant_id: int,
    wa_id: str | None,
    user_id: str | None,
    profile_name: str | None = None,
    username: str | None = None,
    found: Customer | None = None,
) -> Customer:
    """Find the customer by phone or business-scoped id (either may be missing); learn the
    other, and their current profile name and username. `found`: the customer as
    `find_parties` already matched them."""
    if not (wa_id or user_id):
        raise ValueError("a customer needs a wa_id or a user_id")
    customer = found or _find_customer(
        session, merchant_id=merchant_id, wa_id=wa_id, user_id=user_id
    )
    if customer is None:
        created = session.scalar(
            insert(Customer)
            .values(
                merchant_id=merchant_id,
                wa_id=wa_id,
                user_id=user_id,
                profile_name=profile_name,
                username=stored_username(username),
            )
            .on_conflict_do_nothing()
            .returning(Customer)
        )
        if created is not None:
            return created
        # someone created them at the same moment
        customer = _find_customer(session, merchant_id=merchant_id, wa_id=wa_id, user_id=user_id)
        assert customer is not None
        return customer
    if wa_id and not customer.wa_id and not _taken(session, merchant_id, Customer.wa_id, wa_id):
        customer.wa_id = wa_id
    if (
        user_id
        and not customer.user_id
        and not _taken(session, merchant_id, Customer.user_id, user_id)
    ):
        customer.user_id = user_id
    if profile_name and customer.profile_name != profile_name:
        customer.profile_name = profile_name
    if username and customer.username != stored_username(username):
        customer.username = stored_username(username)
    return customer


def stored_username(username: str | None) -> str | None:
    """A username as customers.username keeps it."""
    """Stored without WhatsApp's leading "@" (shown with it)."""
    return username.removeprefix("@")[:64] or None if username else None


def learns_nothing(
    *, wa_id: bool, user_id: bool, profile_name: Comparand | None, username: Comparand | None
) -> ColumnElement[bool]:
    """True for a matched customer row that `upsert_customer` would leave as it is. `wa_id`,
    `user_id`: whether the message gives them (the row must hold them); `profile_name`, the
    stored form of `username`: values or bound parameters, None when the message gives none."""
    conditions: list[ColumnElement[bool]] = [_CUSTOMERS.c.wa_id.is_not(None)] if wa_id else []
    conditions += [_CUSTOMERS.c.user_id.is_not(None)] if user_id else []
    conditions += [_CUSTOMERS.c.profile_name == profile_name] if profile_name is not None else []
    if username is not None:
        conditions.append(_CUSTOMERS.c.username.is_not_distinct_from(username))
    return and_(true(), *conditions)


def find_parties(
    session: Session,
    *,
    phone_number_id: str,
    wa_id: str | None,
    user_id: str | None,
    channel: str = ChannelType.WHATSAPP_CLOUD,
) -> tuple[PhoneNumber, Customer | None, Conversation | None] | None:
    """The business number, the customer (as `upsert_customer` would match them) and their
    conversation, in one round trip: an inbound message usually finds all three. None: an
    unknown number."""
    stmt = (
        select(PhoneNumber, Customer, Conversation)
        .outerjoin(
            Customer,
            and_(
                Customer.merchant_id == PhoneNumber.merchant_id,
                customer_matches(wa_id, user_id),
            ),
        )
        .outerjoin(
            Conversation,
            and_(
                Conversation.phone_number_id == PhoneNumber.id,
                Conversation.customer_id == Customer.id,
            ),
        )
        .where(PhoneNumber.type == channel, PhoneNumber.phone_number_id == phone_number_id)
        .order_by(Customer.id)
        .limit(1)
    )
    row = session.execute(stmt).first()
    return None if row is None else (row[0], row[1], row[2])


def customer_matches(wa_id: Comparand | None, user_id: Comparand | None) -> ColumnElement[bool]:
    """A customer known by either id (values or bound parameters; None or "": not given)."""
    matches = [_CUSTOMERS.c.wa_id == wa_id] if _given(wa_id) else []
    matches += [_CUSTOMERS.c.user_id == user_id] if _given(user_id) else []
    return or_(*matches) if matches else false()


def _given(value: Comparand | None) -> bool:
    return bool(value) if isinstance(value, str) else value is not None


def _find_customer(
    session: Session, *, merchant_id: int, wa_id: str | None, user_id: str | None
) -> Customer | None:
    stmt = (
        select(Customer)
        .where(Customer.merchant_id == merchant_id, customer_matches(wa_id, user_id))
        .order_by(Customer.id)
    )
    return session.scalars(stmt).first()


def _taken(
    session: Session, merchant_id: int, column: InstrumentedAttribute[str | None], value: str
) -> bool:
    stmt = select(Customer.id).where(Customer.merchant_id == merchant_id, column == value)
    return session.scalar(stmt) is not None


def upsert_conversation(session: Session, *, phone_id: int, customer_id: int) -> Conversation:
    """One round trip in the usual cases (it exists; it is new), two in a race."""
    stmt = select(Conversation).where(
        Conversation.phone_number_id == phone_id, Conversation.customer_id == customer_id
    )
    conversation = session.scalar(stmt) or session.scalar(
        insert(Conversation)
        .values(phone_number_id=phone_id, customer_id=customer_id, mode="ai", needs_human=False)
        .on_conflict_do_nothing(index_elements=["phone_number_id", "customer_id"])
        .returning(Conversation)
    )
    conversation = conversation or session.scalar(stmt)
    assert conversation is not None
    return conversation


def get_conversation(
    session: Session, conversation_id: int, *, merchant_id: int | None = None
) -> Conversation:
    """The conversation, or NotFound (also when it belongs to another merchant than
    `merchant_id`)."""
    conversation = session.get(Conversation, conversation_id)
    if conversation is not None and merchant_id is not None:
        phone = session.get(PhoneNumber, conversation.phone_number_id)
        conversation = conversation if phone and phone.merchant_id == merchant_id else None
    if conversation is None:
        raise NotFound(f"conversation {conversation_id} does not exist")
    return conversation


def find_conversation(
    session: Session,
    *,
    customer: str,
    phone_number_id: str | None = None,
    merchant_id: int | None = None,
) -> Conversation:
    """A conversation named by the customer's wa_id or business-scoped id (and the number),
    among `merchant_id`'s when given."""
    stmt = (
        select(Conversation)
        .join(Customer, Customer.id == Conversation.customer_id)
        .join(PhoneNumber, PhoneNumber.id == Conversation.phone_number_id)
        .where(or_(Customer.wa_id == customer, Customer.user_id == customer))
    )
    if phone_number_id:
        stmt = stmt.where(PhoneNumber.phone_number_id == phone_number_id)
    if merchant_id is not None:
        stmt = stmt.where(PhoneNumber.merchant_id == merchant_id)
    found = list(session.scalars(stmt.limit(2)))
    if not found:
        raise NotFound(f"no conversation with customer {customer}")
    if len(found) > 1:
        raise NotFound(
            f"customer {customer} talks to several numbers: name one with phone_number_id"
        )
    return found[0]


# a conversation with its customer and business number, as conversation_parties reads them
Parties = tuple[Conversation, Customer, PhoneNumber]


def conversation_parties(session: Session, conversation_id: int) -> Parties:
    """The conversation with its customer and business number."""
    stmt = (
        select(Conversation, Customer, PhoneNumber)
        .join(Customer, Customer.id == Conversation.customer_id)
        .join(PhoneNumber, PhoneNumber.id == Conversation.phone_number_id)
        .where(Conversation.id == conversation_id)
    )
    row = session.execute(stmt).first()
    if row is None:
        raise NotFound(f"conversation {conversation_id} does not exist")
    return row[0], row[1], row[2]


def message_parties(session: Session, message_id: int) -> tuple[Message, Parties] | None:
    """A message with its conversation's parties, the conversation held FOR KEY SHARE (a
    send, so that a takeover waits for it); None when the message does not exist."""
    row = session.execute(_message_parties_statement(), {"message_id": message_id}).first()
    return None if row is None else (row[0], (row[1], row[2], row[3]))


@cache
def _message_parties_statement() -> Select[Message, Conversation, Customer, PhoneNumber]:
    """message_parties' statement, built once and bound per send."""
    return (
        select(Message, Conversation, Customer, PhoneNumber)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .join(Customer, Customer.id == Conversation.customer_id)
        .join(PhoneNumber, PhoneNumber.id == Conversation.phone_number_id)
        .where(Message.id == bindparam("message_id"))
        .with_for_update(key_share=True, of=Conversation)
    )


def lock_conversation(session: Session, conversation_id: int) -> Conversation:
    """The conversation row, locked FOR UPDATE: every change of its state (mode, parking)
    goes through this lock, and a send waits for it (FOR KEY SHARE)."""
    conversation = session.scalar(
        select(Conversation).where(Conversation.id == conversation_id).with_for_update()
    )
    if conversation is None:
        raise NotFound(f"conversation {conversation_id} does not exist")
    return conversation
