"""Commerce errors, each with its HTTP status."""

from services.errors import Conflict, DomainError, InvalidInput, NotFound


class StoreNotConnected(NotFound):
    """The merchant has no Shopify store connected."""


class StoreRejected(InvalidInput):
    """Shopify refused the connection (wrong token, unknown shop): its reason is the message."""


class SyncRunning(Conflict):
    """A full sync of this store is already running."""


class CheckoutRefused(DomainError):
    """Shopify refused or failed to make the checkout (Storefront cartCreate)."""

    status_code = 502
