"""What the customer reads about their orders inside the window, and the answers to
"stop" and "start", by language."""

from __future__ import annotations

from services.templates.defaults import pick_language

_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "confirmed": "Thank you for your order {order}! Total: {total}. We'll let you know here "
                     "when it ships.",
        "paid": "We have received the payment for your order {order}. Thank you!",
        "shipped": "Good news: your order {order} is on its way{carrier}.{tracking}",
        "in_transit": "Your order {order} is in transit{carrier}.{tracking}",
        "out_for_delivery": "Your order {order} is out for delivery today.",
        "delivered": "Your order {order} has been delivered. Enjoy!",
        "cancelled": "Your order {order} has been cancelled. Any questions? Just reply here.",
        "carrier": " with {carrier}", "tracking": " Track it here: {url}",
        "footer": "Reply STOP to stop order updates.",
        "stopped": "Done: you won't get order updates here any more. Reply START to get them "
                   "again.",
        "started": "Done: you'll get updates about your orders here again.",
    },
    "es": {
        "confirmed": "¡Gracias por tu pedido {order}! Total: {total}. Te avisaremos por aquí "
                     "cuando salga.",
        "paid": "Hemos recibido el pago de tu pedido {order}. ¡Gracias!",
        "shipped": "¡Buenas noticias! Tu pedido {order} está en camino{carrier}.{tracking}",
        "in_transit": "Tu pedido {order} está en tránsito{carrier}.{tracking}",
        "out_for_delivery": "Tu pedido {order} se entrega hoy.",
        "delivered": "Tu pedido {order} ha sido entregado. ¡Que lo disfrutes!",
        "cancelled": "Tu pedido {order} ha sido cancelado. ¿Alguna duda? Responde aquí.",
        "carrier": " con {carrier}", "tracking": " Síguelo aquí: {url}",
        "footer": "Responde STOP para dejar de recibir avisos de pedidos.",
        "stopped": "Hecho: ya no recibirás avisos de pedidos por aquí. Responde START para "
                   "volver a recibirlos.",
        "started": "Hecho: volverás a recibir avisos de tus pedidos por aquí.",
    },
    "pt": {
        "confirmed": "Obrigado pelo seu pedido {order}! Total: {total}. Avisaremos por aqui "
                     "quando ele for enviado.",
        "paid": "Recebemos o pagamento do seu pedido {order}. Obrigado!",
        "shipped": "Boa notícia: o seu pedido {order} está a caminho{carrier}.{tracking}",
        "in_transit": "O seu pedido {order} está em trânsito{carrier}.{tracking}",
        "out_for_delivery": "O seu pedido {order} sai para entrega hoje.",
        "delivered": "O seu pedido {order} foi entregue. Aproveite!",
        "cancelled": "O seu pedido {order} foi cancelado. Alguma dúvida? É só responder aqui.",
        "carrier": " com {carrier}", "tracking": " Acompanhe aqui: {url}",
        "footer": "Responda STOP para não receber avisos de pedidos.",
        "stopped": "Pronto: você não receberá mais avisos de pedidos aqui. Responda START para "
                   "recebê-los de novo.",
        "started": "Pronto: você voltará a receber avisos dos seus pedidos aqui.",
    },
    "fr": {
        "confirmed": "Merci pour votre commande {order} ! Total : {total}. Nous vous "
                     "préviendrons ici à son expédition.",
        "paid": "Nous avons bien reçu le paiement de votre commande {order}. Merci !",
        "shipped": "Bonne nouvelle : votre commande {order} est en route{carrier}.{tracking}",
        "in_transit": "Votre commande {order} est en cours d'acheminement{carrier}.{tracking}",
        "out_for_delivery": "Votre commande {order} est livrée aujourd'hui.",
        "delivered": "Votre commande {order} a été livrée. Profitez-en !",
        "cancelled": "Votre commande {order} a été annulée. Une question ? Répondez ici.",
        "carrier": " avec {carrier}", "tracking": " Suivez-la ici : {url}",
        "footer": "Répondez STOP pour ne plus recevoir ces messages.",
        "stopped": "C'est fait : vous ne recevrez plus de messages sur vos commandes ici. "
                   "Répondez START pour les recevoir à nouveau.",
        "started": "C'est fait : vous recevrez à nouveau ici les messages sur vos commandes.",
    },
}  # fmt: skip

# the news of an order event as the order_update template's last value ("... your order
# #1001: {status}."), by language
_STATUS: dict[str, dict[str, str]] = {
    "en": {
        "paid": "we have received your payment",
        "cancelled": "it has been cancelled",
        "shipped": "it has shipped",
        "in_transit": "it is in transit",
        "out_for_delivery": "it is out for delivery today",
        "delivered": "it has been delivered",
        "confirmed": "we have received it",
    },
    "es": {
        "paid": "hemos recibido tu pago",
        "cancelled": "ha sido cancelado",
        "shipped": "ha sido enviado",
        "in_transit": "está en tránsito",
        "out_for_delivery": "se entrega hoy",
        "delivered": "ha sido entregado",
        "confirmed": "lo hemos recibido",
    },
    "pt": {
        "paid": "recebemos o seu pagamento",
        "cancelled": "ele foi cancelado",
        "shipped": "ele foi enviado",
        "in_transit": "ele está em trânsito",
        "out_for_delivery": "ele sai para entrega hoje",
        "delivered": "ele foi entregue",
        "confirmed": "nós o recebemos",
    },
    "fr": {
        "paid": "nous avons reçu votre paiement",
        "cancelled": "elle a été annulée",
        "shipped": "elle a été expédiée",
        "in_transit": "elle est en cours d'acheminement",
        "out_for_delivery": "elle est livrée aujourd'hui",
        "delivered": "elle a été livrée",
        "confirmed": "nous l'avons reçue",
    },
}  # fmt: skip

# whole messages that switch order updates off or on again
STOP_WORDS = frozenset({
    "stop", "stopp", "unsubscribe", "parar", "baja", "detener", "pare",
    "arrêt", "arret", "arrêter", "arreter", "desabonner",
})  # fmt: skip
START_WORDS = frozenset({"start", "subscribe", "alta", "iniciar", "reanudar", "começar",
                         "comecar", "reprendre", "démarrer", "demarrer"})  # fmt: skip


def _words(language: str | None) -> dict[str, str]:
    return _WORDS[pick_language(_WORDS, language) or "en"]


def update_text(
    kind: str, language: str | None, *, order: str, total: str = "",
    carrier: str | None = None, tracking_url: str | None = None,
) -> str:  # fmt: skip
    """The message for an order update (`kind` as in order_updates.KINDS), with the footer."""
    words = _words(language)
    text = words[kind].format(
        order=order, total=total,
        carrier=words["carrier"].format(carrier=carrier) if carrier else "",
        tracking=words["tracking"].format(url=tracking_url) if tracking_url else "",
    )  # fmt: skip
    return f"{text}\n\n{words['footer']}"


def status_phrase(kind: str, language: str | None) -> str:
    """What happened to the order, for the order_update template (`kind` as in update_text)."""
    return _STATUS[pick_language(_STATUS, language) or "en"][kind]


def stopped(language: str | None) -> str:
    return _words(language)["stopped"]


def started(language: str | None) -> str:
    return _words(language)["started"]


def keyword(text: str | None) -> str | None:
    """"stop" or "start" when the whole message is one of their words, else None."""
    word = (text or "").strip().strip(".!¡").strip().lower()
    if word in STOP_WORDS:
        return "stop"
    if word in START_WORDS:
        return "start"
    return None
