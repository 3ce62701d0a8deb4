"""The message templates Switchboard ships, and Meta's rules for a template body.

Each role has one template name across languages, as WhatsApp keeps the translations of a
template under one name. Bodies follow Meta's review rules: at most 1024 characters,
placeholders {{1}}..{{n}} in order, never at the very start or end, never side by side.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass

BODY_LIMIT = 1024
CATEGORY = "UTILITY"
PLACEHOLDER = re.compile(r"\{\{(\d+)\}\}")
_ADJACENT = re.compile(r"\}\}\s*\{\{")
_AT_END = re.compile(r"\{\{\d+\}\}$")


class TemplateRole(enum.StrEnum):
    # to staff: a customer question (notification_id, customer, question)
    MERCHANT_USER_QUESTION_REQUEST = "merchant_user_question_request"
    # to staff: a support request (notification_id, customer, type, reason)
    MERCHANT_USER_OVERRIDE_REQUEST = "merchant_user_override_request"
    # to the customer: the answer to their question (merchant_name, question, answer)
    MERCHANT_USER_QUESTION_ANSWER = "merchant_user_question_answer"
    # to the customer: the staff's response to a support request (merchant_name, answer)
    CUSTOMER_SUPPORT_RESPONSE = "customer_support_response"
    # to staff outside their window: another colleague answered (notification_id)
    NOTIFICATION_CLOSED = "notification_closed"
    # to the customer: messages wait until they write again (merchant_name)
    CUSTOMER_REENGAGEMENT = "customer_reengagement"
    # the two staff requests again with an "I'll answer" quick-reply button: a new name,
    # since an approved template cannot gain a button without a new review
    MERCHANT_USER_QUESTION_REQUEST_V2 = "merchant_user_question_request_v2"
    MERCHANT_USER_OVERRIDE_REQUEST_V2 = "merchant_user_override_request_v2"
    # to the customer outside their window: how did we do, 1-5 (merchant_name)
    CSAT_SURVEY = "csat_survey"
    # to the customer outside their window: an order placed (merchant_name, order_number,
    # order_total) and an order shipped (merchant_name, order_number, tracking_url)
    ORDER_CONFIRMED = "order_confirmed"
    ORDER_SHIPPED = "order_shipped"
    # to the customer outside their window: any other order event, its news in words
    # (merchant_name, order_number, order_status: "it has been delivered")
    ORDER_UPDATE = "order_update"


@dataclass(frozen=True)
class TemplateDefinition:
    """A template as submitted to Meta: shipped by us, or a merchant's own row."""

    role: TemplateRole
    language: str  # WhatsApp's language code
    name: str
    body: str
    parameters: tuple[str, ...]
    category: str = CATEGORY
    quick_replies: tuple[str, ...] = ()  # QUICK_REPLY button texts


def components_of(definition: TemplateDefinition) -> list[dict[str, object]]:
    """The definition as Meta's components (what a message_templates row keeps)."""
    components: list[dict[str, object]] = [{"type": "BODY", "text": definition.body}]
    if definition.quick_replies:
        buttons = [{"type": "QUICK_REPLY", "text": text} for text in definition.quick_replies]
        components.append({"type": "BUTTONS", "buttons": buttons})
    return components


NAMES = {
    TemplateRole.MERCHANT_USER_QUESTION_REQUEST: "switchboard_question_request",
    TemplateRole.MERCHANT_USER_OVERRIDE_REQUEST: "switchboard_support_request",
    TemplateRole.MERCHANT_USER_QUESTION_ANSWER: "switchboard_question_answer",
    TemplateRole.CUSTOMER_SUPPORT_RESPONSE: "switchboard_support_response",
    TemplateRole.NOTIFICATION_CLOSED: "switchboard_notification_closed",
    TemplateRole.CUSTOMER_REENGAGEMENT: "switchboard_reengagement",
    TemplateRole.MERCHANT_USER_QUESTION_REQUEST_V2: "switchboard_question_request_v2",
    TemplateRole.MERCHANT_USER_OVERRIDE_REQUEST_V2: "switchboard_support_request_v2",
    TemplateRole.CSAT_SURVEY: "switchboard_csat_survey",
    TemplateRole.ORDER_CONFIRMED: "switchboard_order_confirmed",
    TemplateRole.ORDER_SHIPPED: "switchboard_order_shipped",
    TemplateRole.ORDER_UPDATE: "switchboard_order_update",
}
# a request role -> its version with the claim button, preferred once Meta approved it
BUTTON_VERSIONS = {
    TemplateRole.MERCHANT_USER_QUESTION_REQUEST: TemplateRole.MERCHANT_USER_QUESTION_REQUEST_V2,
    TemplateRole.MERCHANT_USER_OVERRIDE_REQUEST: TemplateRole.MERCHANT_USER_OVERRIDE_REQUEST_V2,
}
# the values each quick-reply button's payload carries: the tap names the notification
QUICK_REPLY_VALUES = {role: ("notification_id",) for role in BUTTON_VERSIONS.values()}
CLAIM_BUTTON = {
    "en": "I'll answer", "es": "Yo respondo", "pt_BR": "Eu respondo", "fr": "Je réponds",
}  # fmt: skip
PARAMETERS = {
    TemplateRole.MERCHANT_USER_QUESTION_REQUEST: ("notification_id", "customer", "question"),
    TemplateRole.MERCHANT_USER_OVERRIDE_REQUEST: (
        "notification_id", "customer", "support_request_type", "support_request_reason",
    ),
    TemplateRole.MERCHANT_USER_QUESTION_ANSWER: ("merchant_name", "question", "answer"),
    TemplateRole.CUSTOMER_SUPPORT_RESPONSE: ("merchant_name", "answer"),
    TemplateRole.NOTIFICATION_CLOSED: ("notification_id",),
    TemplateRole.CUSTOMER_REENGAGEMENT: ("merchant_name",),
    TemplateRole.CSAT_SURVEY: ("merchant_name",),
    TemplateRole.ORDER_CONFIRMED: ("merchant_name", "order_number", "order_total"),
    TemplateRole.ORDER_SHIPPED: ("merchant_name", "order_number", "tracking_url"),
    TemplateRole.ORDER_UPDATE: ("merchant_name", "order_number", "order_status"),
}  # fmt: skip
PARAMETERS.update({new: PARAMETERS[old] for old, new in BUTTON_VERSIONS.items()})

_OC, _OS = TemplateRole.ORDER_CONFIRMED, TemplateRole.ORDER_SHIPPED
_OU = TemplateRole.ORDER_UPDATE
_Q, _O, _A, _S, _C, _R, _V = (
    TemplateRole.MERCHANT_USER_QUESTION_REQUEST,
    TemplateRole.MERCHANT_USER_OVERRIDE_REQUEST,
    TemplateRole.MERCHANT_USER_QUESTION_ANSWER,
    TemplateRole.CUSTOMER_SUPPORT_RESPONSE,
    TemplateRole.NOTIFICATION_CLOSED,
    TemplateRole.CUSTOMER_REENGAGEMENT,
    TemplateRole.CSAT_SURVEY,
)
_BODIES: dict[str, dict[TemplateRole, str]] = {
    "en": {
        _Q: "Customer question {{1}} from {{2}}:\n\n{{3}}\n\n"
        "Please reply to this message with the answer and we will pass it on to the customer.",
        _O: "Support request {{1}} from {{2}}.\n\nType: {{3}}\nReason: {{4}}\n\n"
        "Please reply to this message with your response for the customer.",
        _A: 'Hi! This is {{1}} following up on your question "{{2}}". '
        "Our team's answer: {{3}}\n\nJust reply here if you need anything else.",
        _S: "Hi! This is {{1}} following up on your support request. "
        "Our team's response: {{2}}\n\nJust reply here if you need anything else.",
        _C: "Notification {{1}} has been answered and is now closed. No reply is needed.",
        _R: "Hi! This is {{1}}. We have a reply to your earlier message waiting for you. "
        "Answer this message and we will send it right away.",
        _V: "Hi! This is {{1}}. How did we do? Reply with a number from 1 (poor) to 5 (excellent).",
        _OC: "Hi! This is {{1}}. Thank you for your order {{2}} ({{3}}). We will let you know "
        "here when it ships. Reply STOP to stop order updates.",
        _OS: "Hi! This is {{1}}. Your order {{2}} is on its way. Track it here: {{3}}\n\n"
        "Reply STOP to stop order updates.",
        _OU: "Hi! This is {{1}}. An update on your order {{2}}: {{3}}.\n\n"
        "Reply STOP to stop order updates.",
    },
    "es": {
        _Q: "Pregunta de cliente {{1}} de {{2}}:\n\n{{3}}\n\n"
        "Por favor, responde a este mensaje con la respuesta y se la haremos llegar al cliente.",
        _O: "Solicitud de soporte {{1}} de {{2}}.\n\nTipo: {{3}}\nMotivo: {{4}}\n\n"
        "Por favor, responde a este mensaje con tu respuesta para el cliente.",
        _A: '¡Hola! Te escribe {{1}} sobre tu pregunta "{{2}}". '
        "La respuesta de nuestro equipo: {{3}}\n\nSi necesitas algo más, responde a este mensaje.",
        _S: "¡Hola! Te escribe {{1}} sobre tu solicitud de soporte. "
        "La respuesta de nuestro equipo: {{2}}\n\nSi necesitas algo más, responde a este mensaje.",
        _C: "La notificación {{1}} ya ha sido respondida y está cerrada. No hace falta responder.",
        _R: "¡Hola! Te escribe {{1}}. Tenemos una respuesta a tu mensaje anterior. "
        "Responde a este mensaje y te la enviaremos enseguida.",
        _V: "¡Hola! Te escribe {{1}}. ¿Qué tal te atendimos? Responde con un número "
        "del 1 (mal) al 5 (excelente).",
        _OC: "¡Hola! Te escribe {{1}}. Gracias por tu pedido {{2}} ({{3}}). Te avisaremos por "
        "aquí cuando salga. Responde STOP para dejar de recibir avisos de pedidos.",
        _OS: "¡Hola! Te escribe {{1}}. Tu pedido {{2}} está en camino. Síguelo aquí: {{3}}\n\n"
        "Responde STOP para dejar de recibir avisos de pedidos.",
        _OU: "¡Hola! Te escribe {{1}}. Novedades de tu pedido {{2}}: {{3}}.\n\n"
        "Responde STOP para dejar de recibir avisos de pedidos.",
    },
    "pt_BR": {
        _Q: "Pergunta de cliente {{1}} de {{2}}:\n\n{{3}}\n\n"
        "Por favor, responda a esta mensagem com a resposta e nós a enviaremos ao cliente.",
        _O: "Solicitação de suporte {{1}} de {{2}}.\n\nTipo: {{3}}\nMotivo: {{4}}\n\n"
        "Por favor, responda a esta mensagem com a sua resposta para o cliente.",
        _A: 'Olá! Aqui é {{1}}, sobre a sua pergunta "{{2}}". '
        "A resposta da nossa equipe: {{3}}\n\n"
        "Se precisar de mais alguma coisa, é só responder a esta mensagem.",
        _S: "Olá! Aqui é {{1}}, sobre a sua solicitação de suporte. "
        "A resposta da nossa equipe: {{2}}\n\n"
        "Se precisar de mais alguma coisa, é só responder a esta mensagem.",
        _C: "A notificação {{1}} já foi respondida e está encerrada. Não é preciso responder.",
        _R: "Olá! Aqui é {{1}}. Temos uma resposta para a sua mensagem anterior. "
        "Responda a esta mensagem e nós a enviaremos na hora.",
        _V: "Olá! Aqui é {{1}}. Como foi o nosso atendimento? Responda com um número "
        "de 1 (ruim) a 5 (excelente).",
        _OC: "Olá! Aqui é {{1}}. Obrigado pelo seu pedido {{2}} ({{3}}). Avisaremos por aqui "
        "quando ele for enviado. Responda STOP para não receber avisos de pedidos.",
        _OS: "Olá! Aqui é {{1}}. O seu pedido {{2}} está a caminho. Acompanhe aqui: {{3}}\n\n"
        "Responda STOP para não receber avisos de pedidos.",
        _OU: "Olá! Aqui é {{1}}. Novidades do seu pedido {{2}}: {{3}}.\n\n"
        "Responda STOP para não receber avisos de pedidos.",
    },
    "fr": {
        _Q: "Question client {{1}} de {{2}} :\n\n{{3}}\n\n"
        "Merci de répondre à ce message avec la réponse, nous la transmettrons au client.",
        _O: "Demande d'assistance {{1}} de {{2}}.\n\nType : {{3}}\nMotif : {{4}}\n\n"
        "Merci de répondre à ce message avec votre réponse pour le client.",
        _A: "Bonjour ! Ici {{1}}, au sujet de votre question « {{2}} ». "
        "La réponse de notre équipe : {{3}}\n\n"
        "Si vous avez besoin d'autre chose, répondez simplement à ce message.",
        _S: "Bonjour ! Ici {{1}}, au sujet de votre demande d'assistance. "
        "La réponse de notre équipe : {{2}}\n\n"
        "Si vous avez besoin d'autre chose, répondez simplement à ce message.",
        _C: "La notification {{1}} a reçu une réponse et est maintenant close. "
        "Aucune réponse n'est nécessaire.",
        _R: "Bonjour ! Ici {{1}}. Nous avons une réponse à votre message précédent. "
        "Répondez à ce message et nous vous l'enverrons aussitôt.",
        _V: "Bonjour ! Ici {{1}}. Comment avons-nous fait ? Répondez par un chiffre "
        "de 1 (mauvais) à 5 (excellent).",
        _OC: "Bonjour ! Ici {{1}}. Merci pour votre commande {{2}} ({{3}}). Nous vous "
        "préviendrons ici à son expédition. Répondez STOP pour ne plus recevoir ces messages.",
        _OS: "Bonjour ! Ici {{1}}. Votre commande {{2}} est en route. Suivez-la ici : {{3}}\n\n"
        "Répondez STOP pour ne plus recevoir ces messages.",
        _OU: "Bonjour ! Ici {{1}}. Du nouveau pour votre commande {{2}} : {{3}}.\n\n"
        "Répondez STOP pour ne plus recevoir ces messages.",
    },
}

# Sample values Meta's reviewers see (`example.body_text`), by value name and language.
EXAMPLES: dict[str, dict[str, str]] = {
    "en": {
        "notification_id": "NOTIF_12", "customer": "Ana Silva (+1 555 010 2030)",
        "question": "Do you ship to Canada?", "support_request_type": "Refund",
        "support_request_reason": "The shoes arrived in the wrong size",
        "merchant_name": "Acme Shoes", "answer": "yes, we ship to Canada within 5 days.",
        "order_number": "#1001", "order_total": "€89.00",
        "tracking_url": "https://www.dhl.com/track?AWB=JD014600003828",
        "order_status": "it has been delivered",
    },
    "es": {
        "notification_id": "NOTIF_12", "customer": "Ana Silva (+34 600 000 000)",
        "question": "¿Hacéis envíos a Canarias?", "support_request_type": "Reembolso",
        "support_request_reason": "Las zapatillas llegaron en otra talla",
        "merchant_name": "Acme Shoes", "answer": "sí, enviamos a Canarias en 5 días.",
        "order_number": "#1001", "order_total": "89,00 €",
        "tracking_url": "https://www.dhl.com/track?AWB=JD014600003828",
        "order_status": "ha sido entregado",
    },
    "pt_BR": {
        "notification_id": "NOTIF_12", "customer": "Ana Silva (+55 11 90000 0000)",
        "question": "Vocês entregam em Manaus?", "support_request_type": "Reembolso",
        "support_request_reason": "O tênis chegou no tamanho errado",
        "merchant_name": "Acme Shoes", "answer": "sim, entregamos em Manaus em até 5 dias.",
        "order_number": "#1001", "order_total": "R$ 89,00",
        "tracking_url": "https://www.dhl.com/track?AWB=JD014600003828",
        "order_status": "foi entregue",
    },
    "fr": {
        "notification_id": "NOTIF_12", "customer": "Ana Silva (+33 6 00 00 00 00)",
        "question": "Livrez-vous en Belgique ?", "support_request_type": "Remboursement",
        "support_request_reason": "Les chaussures sont arrivées dans la mauvaise pointure",
        "merchant_name": "Acme Shoes", "answer": "oui, nous livrons en Belgique sous 5 jours.",
        "order_number": "#1001", "order_total": "89,00 €",
        "tracking_url": "https://www.dhl.com/track?AWB=JD014600003828",
        "order_status": "elle a été livrée",
    },
}  # fmt: skip

for _language, _bodies in _BODIES.items():  # the button versions read like the originals
    _bodies.update({new: _bodies[old] for old, new in BUTTON_VERSIONS.items()})

SHIPPED: dict[tuple[TemplateRole, str], TemplateDefinition] = {
    (role, language): TemplateDefinition(
        role=role,
        language=language,
        name=NAMES[role],
        body=body,
        parameters=PARAMETERS[role],
        quick_replies=(CLAIM_BUTTON[language],) if role in QUICK_REPLY_VALUES else (),
    )  # fmt: skip
    for language, bodies in _BODIES.items()
    for role, body in bodies.items()
}
SHIPPED_LANGUAGES = tuple(_BODIES)


def example_values(parameters: tuple[str, ...] | list[str], language: str) -> list[str]:
    """Sample values for a body's parameters, in the template's language when we have it."""
    samples = EXAMPLES.get(language) or EXAMPLES.get(language.split("_")[0]) or EXAMPLES["en"]
    return [samples.get(name) or EXAMPLES["en"].get(name) or name for name in parameters]


def body_problems(body: str, parameter_count: int) -> list[str]:
    """What Meta's review would refuse in a template body (empty: nothing)."""
    problems = []
    if len(body) > BODY_LIMIT:
        problems.append(f"the body is longer than {BODY_LIMIT} characters")
    numbers = [int(n) for n in PLACEHOLDER.findall(body)]
    if sorted(set(numbers)) != list(range(1, parameter_count + 1)):
        problems.append(f"the placeholders must be {{{{1}}}}..{{{{{parameter_count}}}}}")
    stripped = body.strip()
    if PLACEHOLDER.match(stripped) or _AT_END.search(stripped):
        problems.append("the body must not start or end with a placeholder")
    if _ADJACENT.search(body):
        problems.append("placeholders must not be side by side")
    return problems


def normalize_language(code: str) -> str:
    """WhatsApp's spelling of a language code: 'es-mx' -> 'es_MX', 'EN' -> 'en'."""
    base, *rest = code.strip().replace("-", "_").split("_")
    return "_".join([base.lower(), *(part.upper() if len(part) == 2 else part for part in rest)])


def pick_language(available: Iterable[str], wanted: str | None) -> str | None:
    """The best of `available` for `wanted`: the same code, else the same base language
    ('es' ~ 'es_MX', 'pt_BR' ~ 'pt'), preferring the bare base code; None if none."""
    if not wanted or not wanted.strip():
        return None
    codes = list(available)
    code = normalize_language(wanted)
    exact = [c for c in codes if normalize_language(c) == code]
    if exact:
        return exact[0]
    base = _base(code)
    related = sorted(
        (c for c in codes if _base(c) == base), key=lambda c: (normalize_language(c) != base, c)
    )
    return related[0] if related else None


def _base(code: str) -> str:
    return normalize_language(code).split("_")[0]
