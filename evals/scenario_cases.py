"""Multi-turn scenarios: scripted customer and staff messages over WhatsApp, scored on
the database and on what WhatsApp delivered once the last message is handled. The model's
answers are in recordings/scenarios.json (one list of steps per message)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Say:
    who: str  # customer | staff (the merchant's first staff member)
    text: str


@dataclass(frozen=True)
class Expect:
    questions: int | None = None  # questions for the team
    answered: int | None = None  # of them, answered
    support_requests: int | None = None
    needs_human: bool | None = None
    mode: str | None = "ai"
    customer_has: tuple[str, ...] = ()  # in what the customer received
    customer_language: str | None = None  # of every text the customer received
    staff_has: tuple[str, ...] = ()  # in what the staff member received
    staff_messages: int | None = None
    drafts: int | None = None  # knowledge drafts made from answers
    documents_lack: tuple[str, ...] = ()  # in no document of the merchant, draft or not
    published_lack: tuple[str, ...] = ()  # in no published document


@dataclass(frozen=True)
class Scenario:
    id: str
    merchant: str
    script: tuple[Say, ...]
    expect: Expect
    about: str = ""
    customer_name: str = "Cliente"
    settings: dict[str, str] = field(default_factory=dict)


def customer(text: str) -> Say:
    return Say("customer", text)


def staff(text: str) -> Say:
    return Say("staff", text)


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "es-staff-answer-reaches-customer", "zapateria",
        (customer("¿hacéis zapatos a medida?"),
         staff("Sí, hacemos zapatos a medida desde 180 €, tardan 4 semanas")),
        Expect(questions=1, answered=1, needs_human=False, customer_has=("180 €",),
               staff_has=("a medida",), staff_messages=2, drafts=1, customer_language="es"),
        about="a question goes to the staff on WhatsApp; their answer reaches the customer "
        "and becomes a draft to review, not a published document",
    ),
    Scenario(
        "es-private-answer-stays-private", "zapateria",
        (customer("¿podéis cambiar la dirección de mi pedido 5521? soy Ana García"),
         staff("El pedido 5521 de Ana García sale mañana; le cambio la dirección a Calle Sol 4")),
        Expect(questions=1, answered=1, customer_has=("Calle Sol 4",),
               documents_lack=("Ana García", "Calle Sol", "5521"), drafts=0),
        about="an answer about one customer is delivered to them and to no knowledge document",
        customer_name="Ana García",
    ),
    Scenario(
        "es-staff-translation-for-english-customer", "zapateria",
        (customer("Hello! Do you make custom-made shoes for children?"),
         staff("Sí, para niños también, desde 120 €")),
        Expect(questions=1, answered=1, staff_has=("translated: ¿Hacéis zapatos a medida",),
               customer_has=("120 €",), customer_language="en"),
        about="an English customer's question reaches the Spanish staff translated; the "
        "answer reaches the customer in English",
        customer_name="John",
    ),
    Scenario(
        "es-hand-over", "zapateria",
        (customer("se me ha despegado la suela a la semana, quiero hablar con una persona"),
         customer("¿hola?")),
        Expect(support_requests=1, needs_human=True, staff_messages=1,
               customer_language="es"),
        about="a person is asked for once; the customer is told, the staff notified once",
    ),
    Scenario(
        "pt-fixed-texts-in-portuguese", "tasca",
        (customer("Boa tarde, queria reservar uma mesa para quatro pessoas esta noite"),),
        Expect(needs_human=True, customer_language="pt"),
        about="the model fails: the holding message reaches a Portuguese customer in Portuguese",
    ),
    Scenario(
        "pt-staff-answer-in-portuguese", "tasca",
        (customer("Boa tarde! Aceitam cães na esplanada?"),
         staff("Sim, cães são bem-vindos na esplanada")),
        Expect(questions=1, answered=1, customer_has=("esplanada",), customer_language="pt",
               drafts=1),
        about="the staff's answer reaches a Portuguese customer in Portuguese",
    ),
    Scenario(
        "en-question-asked-once", "voltbox",
        (customer("do you repair drones bought elsewhere?"),
         customer("hello? any news about the drone repair?"),
         staff("Yes, we repair drones from other shops, $60 diagnosis fee")),
        Expect(questions=1, answered=1, staff_messages=2, customer_has=("$60",),
               customer_language="en"),
        about="asking again does not ask the team twice; the answer arrives",
        customer_name="Sam",
    ),
)  # fmt: skip
