"""Instagram customers' names, read once from the User Profile API."""

from __future__ import annotations

from services.customers.instagram_profile import learn_profile
from tasks import app


@app.task(name="switchboard.instagram.profile")
def profile(customer_id: int, account_id: int) -> str:
    return learn_profile(customer_id, account_id)
