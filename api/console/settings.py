"""Settings: a merchant's admins edit the merchant and AI profile, their staff and their
WhatsApp numbers (token replace, business profile). Every form goes through the same
services and schemas as the administration API, so the rules and limits are the same."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.orm import Session

from api.business_hours import BusinessHoursBody
from api.console import hours_form
from api.console.auth import ConsoleUser, ConsoleUserDep, FormUserDep, signed_in_gate
from api.console.templating import render
from api.deps import SessionDep
from api.profile_schemas import VERTICALS, BusinessProfileUpdate
from api.schemas import (
    MerchantUpdate,
    MerchantUserCreate,
    MerchantUserUpdate,
    PhoneNumberUpdate,
)
from api.uploads import gated_post
from persistence.models import ChannelType
from services.errors import DomainError, Forbidden
from services.hours.business import get_business_hours, set_business_hours
from services.merchants import account, business_profile
from services.merchants import merchant as merchants
from services.merchants.profile_photo import MAX_BYTES as PHOTO_MAX_BYTES

router = APIRouter(prefix="/console/settings", include_in_schema=False)
Text = Annotated[str, Form(max_length=5000)]


def _merchant_id(user: ConsoleUser, requested: int | None) -> int:
    """The caller's own merchant; platform admins pick one."""
    user.principal.require_admin()
    own = user.principal.merchant_id
    if own is not None:
        return own
    if requested is None:
        raise Forbidden("pick a merchant: /console/settings?merchant_id=...")
    return requested


def _url(merchant_id: int) -> str:
    return f"/console/settings?merchant_id={merchant_id}"


def _valid(model: type[BaseModel], data: dict[str, Any], user: ConsoleUser) -> Any:
    """The form as the API schema reads it, or None with the reasons flashed."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        reasons = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        user.flash(reasons, "error")
        return None


@router.get("")
def settings_page(
    request: Request, db: SessionDep, user: ConsoleUserDep, merchant_id: int | None = None
) -> Response:
    if not user.principal.is_admin:
        return render(request, "settings.html", {"user": user, "merchant": None}, status_code=403)
    chosen = _merchant_id(user, merchant_id) if user.principal.merchant_id or merchant_id else None
    context: dict[str, Any] = {
        "user": user,
        "merchants": merchants.list_merchants(db) if chosen is None else [],
        "merchant": merchants.get_merchant(db, chosen) if chosen is not None else None,
        "staff": merchants.list_merchant_users(db, chosen) if chosen is not None else [],
        "numbers": merchants.phone_numbers_of(db, chosen) if chosen is not None else [],
        "verticals": VERTICALS,
        "hours": hours_form.form_values(get_business_hours(db, chosen))
        if chosen is not None
        else None,
        "day_labels": hours_form.DAY_LABELS,
        "sla_types": hours_form.SLA_TYPES,
    }
    context["profiles"] = _profiles(db, chosen, context["numbers"])
    return render(request, "settings.html", context)


def _profiles(db: Session, merchant_id: int | None, numbers: list[Any]) -> dict[str, Any]:
    """Each number's business profile as Meta has it now, or why it could not be read."""
    profiles: dict[str, Any] = {}
    for number in numbers:
        if number.type != ChannelType.WHATSAPP_CLOUD:  # a WhatsApp Cloud API feature only
            continue
        try:
            profiles[number.phone_number_id] = business_profile.read_profile(
                db, merchant_id=merchant_id or number.merchant_id,
                phone_number_id=number.phone_number_id,
            )  # fmt: skip
        except DomainError as exc:
            profiles[number.phone_number_id] = {"error": exc.message}
    return profiles


def _done(user: ConsoleUser, merchant_id: int, action: Any, message: str) -> Response:
    try:
        action()
    except DomainError as exc:
        user.flash(exc.message, "error")
    else:
        user.flash(message, "ok")
    return RedirectResponse(_url(merchant_id), status_code=303)


@router.post("/profile")
def save_profile(
    db: SessionDep,
    user: FormUserDep,
    name: Text,
    description: Text = "",
    tone: Text = "",
    default_language: Text = "",
    greeting: Text = "",
    ai_rules: Text = "",
    merchant_id: Annotated[int | None, Form()] = None,
) -> Response:
    target = _merchant_id(user, merchant_id)
    fields = {"name": name, "description": description, "tone": tone or None,
              "default_language": default_language or None, "greeting": greeting,
              "ai_rules": ai_rules}  # fmt: skip
    body = _valid(MerchantUpdate, {k: v for k, v in fields.items() if v is not None}, user)
    if body is None:
        return RedirectResponse(_url(target), status_code=303)
    changes = body.model_dump(exclude_unset=True)
    return _done(user, target, lambda: merchants.update_merchant(db, target, changes), "Saved.")


@router.post("/business-hours")
async def save_business_hours(request: Request, db: SessionDep, user: FormUserDep) -> Response:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    raw_id = form.get("merchant_id", "")
    target = _merchant_id(user, int(raw_id) if raw_id.isdigit() else None)
    body = _valid(BusinessHoursBody, hours_form.body_from_form(form), user)
    if body is None:
        return RedirectResponse(_url(target) + "#hours", status_code=303)
    return _done(user, target, lambda: set_business_hours(db, target, body), "Hours saved.")


@router.post("/users")
def add_user(
    db: SessionDep,
    user: FormUserDep,
    name: Text,
    wa_id: Text = "",
    type: Text = "admin",
    merchant_id: Annotated[int | None, Form()] = None,
) -> Response:
    target = _merchant_id(user, merchant_id)
    body = _valid(MerchantUserCreate, {"name": name, "wa_id": wa_id or None, "type": type}, user)
    if body is None:
        return RedirectResponse(_url(target), status_code=303)
    return _done(
        user, target,
        lambda: merchants.add_merchant_user(db, merchant_id=target, **body.model_dump()),
        f"Added {body.name}.",
    )  # fmt: skip


@router.post("/users/{merchant_user_id}")
def edit_user(
    merchant_user_id: int,
    db: SessionDep,
    user: FormUserDep,
    name: Text,
    wa_id: Text,
    type: Text,
    merchant_id: Annotated[int | None, Form()] = None,
) -> Response:
    target = _merchant_id(user, merchant_id)
    body = _valid(MerchantUserUpdate, {"name": name, "wa_id": wa_id, "type": type}, user)
    if body is None:
        return RedirectResponse(_url(target), status_code=303)
    changes = body.model_dump(exclude_unset=True)
    return _done(
        user, target,
        lambda: account.update_merchant_user(
            db, merchant_id=target, merchant_user_id=merchant_user_id, changes=changes
        ),
        f"Saved {body.name}.",
    )  # fmt: skip


@router.post("/users/{merchant_user_id}/delete")
def remove_user(
    merchant_user_id: int,
    db: SessionDep,
    user: FormUserDep,
    merchant_id: Annotated[int | None, Form()] = None,
) -> Response:
    target = _merchant_id(user, merchant_id)
    return _done(
        user, target,
        lambda: account.delete_merchant_user(
            db, merchant_id=target, merchant_user_id=merchant_user_id
        ),
        "Removed. Their open requests keep waiting for the rest of the team.",
    )  # fmt: skip


@router.post("/numbers/{phone_number_id}/token")
def replace_token(
    phone_number_id: str,
    db: SessionDep,
    user: FormUserDep,
    access_token: Annotated[str, Form(max_length=2000)] = "",
    merchant_id: Annotated[int | None, Form()] = None,
) -> Response:
    target = _merchant_id(user, merchant_id)
    body = _valid(PhoneNumberUpdate, {"access_token": access_token}, user)
    if body is None:
        return RedirectResponse(_url(target), status_code=303)
    changes = body.model_dump(exclude_unset=True)
    return _done(
        user, target,
        lambda: account.update_phone_number(
            db, merchant_id=target, phone_number_id=phone_number_id, changes=changes
        ),
        "Token replaced. It is stored encrypted and not shown again.",
    )  # fmt: skip


class ProfileForm(BaseModel):
    """The business profile form: each field, and beside it (hidden) the value Meta had
    when the form was shown, so an emptied field is told from one left alone."""

    about: str = Field("", max_length=5000)
    address: str = Field("", max_length=5000)
    description: str = Field("", max_length=5000)
    email: str = Field("", max_length=5000)
    website_1: str = Field("", max_length=5000)
    website_2: str = Field("", max_length=5000)
    vertical: str = Field("", max_length=100)
    shown_about: str = Field("", max_length=5000)
    shown_address: str = Field("", max_length=5000)
    shown_description: str = Field("", max_length=5000)
    shown_email: str = Field("", max_length=5000)
    shown_websites: str = Field("", max_length=5000)  # space-separated, as rendered
    shown_vertical: str = Field("", max_length=100)
    merchant_id: int | None = None

    def changes(self) -> dict[str, Any]:
        """What the admin changed: an edited field is sent, an emptied one is cleared ("")
        and one left as shown is not sent at all, so Meta keeps it."""
        changed: dict[str, Any] = {}
        for name in ("about", "address", "description", "email"):
            value = getattr(self, name).strip()
            if value != getattr(self, f"shown_{name}").strip():
                changed[name] = value
        websites = [w.strip() for w in (self.website_1, self.website_2) if w.strip()]
        if websites != self.shown_websites.split():
            changed["websites"] = websites
        if self.vertical.strip() not in ("", self.shown_vertical.strip()):
            changed["vertical"] = self.vertical.strip()
        return changed


@router.post("/numbers/{phone_number_id}/profile")
def save_business_profile(
    phone_number_id: str, db: SessionDep, user: FormUserDep, form: Annotated[ProfileForm, Form()]
) -> Response:
    """The profile form, shown filled with Meta's current values: a changed field is sent,
    an emptied one is cleared at Meta (About and the category cannot be: WhatsApp's rule)."""
    target = _merchant_id(user, form.merchant_id)
    body = _valid(BusinessProfileUpdate, form.changes(), user)
    if body is None:
        return RedirectResponse(_url(target), status_code=303)
    changes = body.changes()
    return _done(
        user, target,
        lambda: business_profile.update_profile(
            db, merchant_id=target, phone_number_id=phone_number_id, changes=changes
        ),
        "WhatsApp business profile updated.",
    )  # fmt: skip


# the photo is read only from a signed-in person
@gated_post(
    router, "/numbers/{phone_number_id}/photo", gate=signed_in_gate,
    limit=lambda: PHOTO_MAX_BYTES,
)  # fmt: skip
def save_profile_photo(
    phone_number_id: str,
    db: SessionDep,
    user: FormUserDep,
    photo: Annotated[UploadFile, File()],
    merchant_id: Annotated[int | None, Form()] = None,
) -> Response:
    target = _merchant_id(user, merchant_id)
    data = photo.file.read(PHOTO_MAX_BYTES + 1)
    return _done(
        user, target,
        lambda: business_profile.update_photo(
            db, merchant_id=target, phone_number_id=phone_number_id, data=data
        ),
        "Profile photo updated: customers see it on WhatsApp.",
    )  # fmt: skip
