"""The retrieval dataset: customers' queries and the documents that answer them.

Kinds: `exact` (the document's own words), `paraphrase` (other words, same meaning),
`typo` (misspelt, missing accents), `long` (the answer sits in one section of a long
document), `cross_language` (a customer writing in another language than the documents;
`translation` is a recorded translation of the query into the documents' language, which
the simulator replays when no model key is set) and `none` (the business has no document
on it: anything found is a false positive).
"""

from __future__ import annotations

from dataclasses import dataclass

KINDS = ("exact", "paraphrase", "typo", "long", "cross_language", "none")


@dataclass(frozen=True)
class Case:
    merchant: str
    kind: str
    query: str
    relevant: tuple[str, ...] = ()
    translation: str = ""


def _c(merchant: str, kind: str, query: str, *relevant: str, translation: str = "") -> Case:
    return Case(merchant, kind, query, tuple(relevant), translation)


Z, T, V = "zapateria", "tasca", "voltbox"

CASES: tuple[Case, ...] = (
    # --- Calzados Lucía (es) ---------------------------------------------------------
    _c(Z, "exact", "plazos de entrega", "es-envios"),
    _c(Z, "exact", "guía de tallas", "es-tallas"),
    _c(Z, "exact", "formas de pago", "es-pago"),
    _c(Z, "exact", "tarjetas regalo", "es-vales"),
    _c(Z, "paraphrase", "¿A qué hora abrís el sábado?", "es-horario"),
    _c(Z, "paraphrase", "¿Cuánto tarda en llegar un pedido a Tenerife?", "es-envios"),
    _c(Z, "paraphrase", "¿Puedo pagar a plazos?", "es-pago"),
    _c(Z, "paraphrase", "¿Cómo limpio unos zapatos de ante?", "es-cuidado"),
    _c(Z, "paraphrase", "¿Tenéis zapatos veganos?", "es-materiales"),
    _c(Z, "typo", "devolusiones", "es-devoluciones"),
    _c(Z, "typo", "cuanto cuesta el envio", "es-envios"),
    _c(Z, "typo", "orario de la tienda", "es-horario"),
    _c(Z, "typo", "se puede pagar con bisum", "es-pago"),
    _c(Z, "long", "¿Me devolvéis el dinero de unos zapatos comprados en rebajas?",
       "es-devoluciones"),
    _c(Z, "long", "¿Cuánto tardáis en hacer el reembolso?", "es-devoluciones"),
    _c(Z, "long", "se me ha despegado la suela, ¿tiene garantía?", "es-devoluciones"),
    _c(Z, "long", "¿Puedo devolver unas plantillas abiertas?", "es-devoluciones"),
    _c(Z, "cross_language", "Do you ship to the Canary Islands?", "es-envios",
       translation="¿Hacéis envíos a las Canarias?"),
    _c(Z, "cross_language", "How do I return shoes that don't fit?", "es-devoluciones",
       translation="¿Cómo devuelvo unos zapatos que no me quedan bien?"),
    _c(Z, "cross_language", "What size is 27 cm?", "es-tallas",
       translation="¿Qué talla es 27 cm?"),
    _c(Z, "cross_language", "Vocês aceitam PayPal?", "es-pago",
       translation="¿Aceptáis PayPal?"),
    _c(Z, "none", "¿Vendéis bolsos de mano?"),
    _c(Z, "none", "¿Tenéis aparcamiento para clientes?"),
    _c(Z, "none", "¿Hacéis descuento a estudiantes?"),
    # --- Tasca do Zé (pt) --------------------------------------------------------------
    _c(T, "exact", "horário e reservas", "pt-horario"),
    _c(T, "exact", "noites de fado", "pt-fado"),
    _c(T, "exact", "menu infantil", "pt-criancas"),
    _c(T, "exact", "sala privada", "pt-grupos"),
    _c(T, "paraphrase", "Estão abertos à segunda?", "pt-horario"),
    _c(T, "paraphrase", "Quanto custa o bacalhau?", "pt-menu"),
    _c(T, "paraphrase", "Posso pagar com cartão American Express?", "pt-pagamento"),
    _c(T, "paraphrase", "Onde fica o restaurante?", "pt-localizacao"),
    _c(T, "paraphrase", "Fazem entregas em casa?", "pt-entregas"),
    _c(T, "typo", "reservaçoes para sabado", "pt-horario"),
    _c(T, "typo", "alergenios", "pt-alergenios"),
    _c(T, "typo", "bacalhau a bras", "pt-menu"),
    _c(T, "typo", "estacionamneto perto", "pt-localizacao"),
    _c(T, "long", "O arroz de marisco leva lagosta?", "pt-alergenios", "pt-menu"),
    _c(T, "long", "Têm pratos sem glúten?", "pt-alergenios"),
    _c(T, "long", "Qual é o preço do vinho da casa?", "pt-menu"),
    _c(T, "long", "Há sardinhas assadas em novembro?", "pt-menu"),
    _c(T, "cross_language", "Do you have vegan dishes?", "pt-alergenios",
       translation="Têm pratos veganos?"),
    _c(T, "cross_language", "What time is the fado show?", "pt-fado",
       translation="A que horas é o fado?"),
    _c(T, "cross_language", "¿Cómo llego en tranvía?", "pt-localizacao",
       translation="Como chego de elétrico?"),
    _c(T, "cross_language", "Can we book for a group of 20 people?", "pt-grupos",
       translation="Podemos reservar para um grupo de 20 pessoas?"),
    _c(T, "none", "Têm wi-fi para clientes?"),
    _c(T, "none", "Aceitam cães?"),
    _c(T, "none", "Vendem vouchers de oferta?"),
    # --- Voltbox Electronics (en) ------------------------------------------------------
    _c(V, "exact", "price match guarantee", "en-pricematch"),
    _c(V, "exact", "trade-in program", "en-tradein"),
    _c(V, "exact", "student discount", "en-student"),
    _c(V, "exact", "store opening hours", "en-stores"),
    _c(V, "paraphrase", "Can I pay for a laptop in monthly installments?", "en-financing"),
    _c(V, "paraphrase", "Will you hang my TV on the wall?", "en-setup"),
    _c(V, "paraphrase", "Walmart sells it for less, can you do the same price?",
       "en-pricematch"),
    _c(V, "paraphrase", "Do you deliver to Toronto?", "en-shipping"),
    _c(V, "paraphrase", "How much do I get for my old iPhone?", "en-tradein"),
    _c(V, "typo", "warrenty", "en-warranty"),
    _c(V, "typo", "finacing options", "en-financing"),
    _c(V, "typo", "retrun policy", "en-returns"),
    _c(V, "typo", "expres delivery", "en-shipping"),
    _c(V, "long", "Is there a restocking fee on an opened drone?", "en-returns"),
    _c(V, "long", "Can I return earbuds I opened?", "en-returns"),
    _c(V, "long", "Does Care+ cover a cracked screen?", "en-warranty"),
    _c(V, "long", "I bought a gift in December, until when can it be returned?", "en-returns"),
    _c(V, "long", "My parcel arrived damaged", "en-returns"),
    _c(V, "cross_language", "¿Cuánto cuesta el envío exprés?", "en-shipping",
       translation="How much is express shipping?"),
    _c(V, "cross_language", "¿Tenéis garantía en los portátiles?", "en-warranty",
       translation="Do laptops have a warranty?"),
    _c(V, "cross_language", "Quanto tempo demora a reparação?", "en-warranty",
       translation="How long does a repair take?"),
    _c(V, "cross_language", "Kann ich mit Apple Pay bezahlen?", "en-financing",
       translation="Can I pay with Apple Pay?"),
    _c(V, "none", "Do you repair washing machines?"),
    _c(V, "none", "Do you sell concert tickets?"),
    _c(V, "none", "Is there a loyalty points card?"),
)
