"""Made-up merchants for the evaluations: their knowledge, media, staff and a frozen clock.

Three businesses in three languages, each with short facts and a few long documents (a
returns policy in several sections, a menu, a warranty), so that retrieval meets long
texts, accents, and customers who write in another language than the documents.
Document keys (`es-envios`) are the evaluation's names for them; titles are what the
agent sees.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

# Every evaluation runs at this instant, so opening hours, windows and dates read the same.
FROZEN_NOW = datetime(2026, 11, 18, 11, 30, tzinfo=UTC)  # a Wednesday morning


@dataclass(frozen=True)
class Doc:
    key: str
    title: str
    content: str
    category: str = "general"


@dataclass(frozen=True)
class Media:
    key: str
    kind: str  # image | video | document
    caption: str


@dataclass(frozen=True)
class Staff:
    name: str
    wa_id: str
    type: str  # admin | sales | returns | technical ...
    handles: str  # what this team handles (support classification)


@dataclass(frozen=True)
class EvalMerchant:
    key: str
    name: str
    description: str
    language: str
    tone: str
    docs: tuple[Doc, ...]
    media: tuple[Media, ...] = ()
    staff: tuple[Staff, ...] = field(default_factory=tuple)


_ES_RETURNS = """1. Plazo. Tienes 30 días naturales desde la entrega del pedido para devolver \
o cambiar cualquier par de zapatos comprado en nuestra web o en la tienda de Sevilla.

2. Estado del producto. Los zapatos deben estar sin usar, con las suelas limpias, en su caja \
original y con todas las etiquetas. Pruébatelos sobre una alfombra o una superficie blanda: \
si la suela muestra marcas de uso no podremos aceptar la devolución.

3. Cómo solicitar una devolución. Entra en "Mi cuenta", elige el pedido y pulsa "Devolver". \
Te enviaremos por correo una etiqueta prepagada de Correos; imprime la etiqueta, pégala en la \
caja y entrégala en cualquier oficina de Correos. Si compraste como invitado, escríbenos por \
WhatsApp con tu número de pedido y te mandamos la etiqueta.

4. Coste de la devolución. La primera devolución de cada pedido es gratuita en la Península. \
Desde Baleares la etiqueta cuesta 3,95 €, y desde Canarias, Ceuta y Melilla el envío de vuelta \
corre por cuenta del cliente porque pasa por aduana.

5. Reembolsos. Cuando recibimos y revisamos los zapatos (normalmente en 3 a 5 días laborables), \
te devolvemos el dinero con el mismo método de pago que usaste. El abono tarda hasta 14 días \
en aparecer en tu cuenta; con Bizum y PayPal suele ser inmediato. Los gastos de envío del \
pedido original no se reembolsan, salvo que el producto sea defectuoso.

6. Cambios de talla o de color. El primer cambio de talla es gratis: solicita la devolución, \
marca "Cambio" e indica la talla nueva. Reservamos la talla durante 7 días. Si la talla nueva \
está agotada te ofrecemos otro modelo o el reembolso.

7. Rebajas y outlet. Los artículos comprados en rebajas o en la sección outlet se pueden \
cambiar, pero no se reembolsan: te damos un vale por el importe, válido durante 6 meses.

8. Productos defectuosos. Todos nuestros zapatos tienen 2 años de garantía legal frente a \
defectos de fabricación (costuras que se sueltan, suelas que se despegan). Envíanos fotos del \
defecto por WhatsApp o por correo y te diremos si lo reparamos, lo cambiamos o te devolvemos \
el dinero. El desgaste normal por uso no es un defecto.

9. Plantillas y calcetines. Por higiene, las plantillas y los calcetines no admiten devolución \
una vez abiertos."""

_PT_MENU = """Entradas: pão, azeitonas e manteiga (couvert) 3,50 €; ameijoas à Bulhão Pato 16 €; \
pica-pau do lombo 11 €; peixinhos da horta 7,50 €; queijo da Serra amanteigado 12 €.

Peixe: bacalhau à Brás 14,50 €; bacalhau com natas 15 €; polvo à lagareiro com batata a murro \
19 €; sardinhas assadas (só de junho a setembro) 13 €; arroz de marisco para duas pessoas 38 €; \
dourada grelhada com legumes 17 €.

Carne: bitoque de vaca com ovo e batata frita 12 €; bifanas no pão 6 €; secretos de porco \
preto 16 €; cozido à portuguesa (só ao domingo) 18 €; francesinha 13,50 €.

Pratos vegetarianos: arroz de cogumelos selvagens 13 €; caril de legumes com grão 12 €; \
peixinhos da horta em dose 11 €.

Sobremesas: pastel de nata 2,50 €; arroz doce 4,50 €; baba de camelo 5 €; mousse de chocolate \
5 €; salame de chocolate 4,50 €; fruta da época 3,50 €.

Vinhos e bebidas: vinho da casa (tinto ou branco) jarro de meio litro 9 €; vinho verde \
Alvarinho garrafa 22 €; Douro tinto garrafa 24 €; imperial 2,50 €; ginjinha 3 €; café 1,20 €.

Menu do dia (almoço, terça a sexta): sopa, prato do dia, bebida e café por 13,50 €.

Os preços incluem IVA à taxa em vigor. O couvert só é servido se o pedir e pode recusá-lo."""

_PT_ALLERGENS = """Todos os pratos podem conter vestígios de alergénios, porque a cozinha é \
partilhada. Diga-nos sempre a sua alergia ao fazer o pedido.

Glúten: o bacalhau à Brás, o polvo à lagareiro, a dourada grelhada e o arroz de marisco não \
levam farinha. Temos pão sem glúten se avisar na reserva. A francesinha, as bifanas e os \
peixinhos da horta têm glúten.

Marisco e peixe: o arroz de marisco leva camarão, amêijoa e lagosta; as ameijoas à Bulhão \
Pato são cozinhadas com alho e coentros. O caldo do arroz de cogumelos é de legumes, sem \
peixe.

Frutos secos: a baba de camelo e o salame de chocolate podem ter amêndoa; o resto das \
sobremesas não leva frutos secos.

Lactose: o bacalhau com natas e a mousse de chocolate levam natas e leite; o pastel de nata \
leva leite e ovo.

Vegetarianos e veganos: o arroz de cogumelos selvagens e o caril de legumes com grão são \
vegetarianos e podem ser feitos veganos (sem manteiga). Os peixinhos da horta são vegetarianos.

Crianças com alergias: o menu infantil pode ser adaptado; fale com o empregado de mesa."""

_EN_RETURNS = """Section 1, return window. You can return most items within 30 days of delivery \
for a full refund. Items bought between November 1 and December 24 can be returned until \
January 31 of the following year.

Section 2, condition. Items must come back with all accessories, manuals, cables and the \
original packaging. Opened cameras, drones and laptops carry a 15% restocking fee unless they \
are defective. Earbuds, in-ear headphones and opened software, game codes and gift cards cannot \
be returned for hygiene and licensing reasons.

Section 3, how to start a return. Sign in, open the order and choose "Start a return" to get a \
return authorization (RMA) number and a prepaid UPS label. Drop the parcel at any UPS point, or \
bring the item to one of our stores with the receipt; in store, returns are processed on the \
spot.

Section 4, refunds. Refunds go back to the original payment method within 5 to 10 business \
days after the item reaches our warehouse. Store credit is issued at once. Shipping fees are \
refunded only when the item was wrong or defective. Items paid with Affirm are refunded to \
Affirm, which adjusts your loan.

Section 5, exchanges. To exchange an item for another size, color or model, return it and \
place a new order; we reserve stock for 48 hours when you choose "Exchange" in the return form.

Section 6, damaged or missing items. If your parcel arrives damaged or an item is missing, \
tell us within 48 hours with photos of the box and the product; we send a replacement at no \
cost once the carrier's claim is opened.

Section 7, data. Erase your personal data before returning a phone, tablet or laptop and turn \
off Find My / activation lock; devices still locked cannot be refunded."""

_EN_WARRANTY = """Every product we sell has at least the manufacturer's warranty: 1 year for \
accessories and 2 years for phones, laptops, TVs, cameras and drones.

Voltbox Care+ extends the warranty to 3 years in total and adds accidental damage cover (drops, \
spills, cracked screens) with two claims a year and a $49 deductible per claim. It can be \
added at checkout or within 30 days of purchase, and costs from $29 for headphones to $199 for \
laptops.

What the warranty does not cover: water damage on devices that are not water resistant, \
cosmetic scratches, batteries that lose capacity through normal use (below 80% within the \
first year is covered), software problems, and damage from unauthorised repairs.

How to get a repair: book a repair from the order page or at a store's service desk. We test \
the device, back it up if you ask us to, and send it to the authorised service centre. Repairs \
take 7 to 10 business days; Care+ members get a loaner phone or laptop while they wait.

Screen replacements for phones under Care+ are done the same day in our Austin and Denver \
stores when the part is in stock."""


SHOE_SHOP = EvalMerchant(
    key="zapateria",
    name="Calzados Lucía",
    description="Zapatería familiar de Sevilla: zapatos de piel hechos en Elche, tienda online.",
    language="es",
    tone="cercano y breve",
    docs=(
        Doc("es-envios", "Envíos y plazos de entrega",
            "Enviamos a toda España. Península: 24 a 48 horas laborables. Baleares: 3 a 4 días. "
            "Canarias, Ceuta y Melilla: 5 a 7 días, con trámite de aduana (DUA) incluido en el "
            "precio. El envío es gratis en pedidos desde 60 €; por debajo cuesta 4,95 €. "
            "También enviamos a Portugal, Francia e Italia en 5 a 8 días por 12 €."),
        Doc("es-devoluciones", "Política de devoluciones y cambios", _ES_RETURNS, "policy"),
        Doc("es-tallas", "Guía de tallas",
            "Mide tu pie en centímetros, del talón al dedo más largo, por la tarde. Talla 36: "
            "23 cm; 37: 23,7 cm; 38: 24,4 cm; 39: 25 cm; 40: 25,7 cm; 41: 26,4 cm; 42: 27 cm; "
            "43: 27,7 cm; 44: 28,4 cm; 45: 29 cm. El modelo Triana tiene horma estrecha: pide "
            "medio número más. Si dudas entre dos tallas, elige la mayor."),
        Doc("es-horario", "Horario y dirección de la tienda",
            "Nuestra tienda está en la calle Feria 23, en Sevilla. Abrimos de lunes a viernes de "
            "10:00 a 14:00 y de 17:00 a 20:30, y los sábados de 10:00 a 14:00. Domingos y "
            "festivos cerrado. En agosto solo abrimos por las mañanas."),
        Doc("es-pago", "Formas de pago",
            "Aceptamos tarjeta de crédito o débito (Visa, Mastercard), PayPal y Bizum. El pago "
            "contra reembolso cuesta 2 € más. Desde 90 € puedes pagar en 3 plazos sin intereses "
            "con Klarna."),
        Doc("es-cuidado", "Cuidado del calzado de piel",
            "Limpia la piel con un paño húmedo y deja secar lejos del radiador. Una vez al mes "
            "aplica crema nutritiva del mismo color. El ante se limpia en seco con un cepillo de "
            "goma. Nunca metas los zapatos en la lavadora. Guárdalos con hormas de cedro."),
        Doc("es-materiales", "Materiales y fabricación",
            "Nuestros zapatos se fabrican en talleres de Elche con piel de curtido vegetal y "
            "suelas de goma natural. La colección Vegana usa microfibra y suelas recicladas, sin "
            "ningún material de origen animal."),
        Doc("es-vales", "Tarjetas regalo",
            "Vendemos tarjetas regalo de 20 a 200 €, en la web (por correo electrónico) y en la "
            "tienda. Son válidas durante un año y se pueden usar en varias compras."),
        Doc("es-seguimiento", "Seguimiento del pedido",
            "Cuando tu pedido sale del almacén te enviamos un correo con el número de seguimiento "
            "de Correos Express o SEUR. Puedes cambiar la dirección de entrega mientras el "
            "pedido no haya salido; después, habla directamente con la agencia."),
    ),
    media=(
        Media("triana-negro", "image", "Modelo Triana en piel negra"),
        Media("guia-tallas", "document", "Guía de tallas en PDF"),
    ),
    staff=(
        Staff("Lucía", "34600111222", "admin", "todo lo demás"),
        Staff("Manuel", "34600333444", "returns", "devoluciones, cambios, reembolsos, defectos"),
    ),
)

RESTAURANT = EvalMerchant(
    key="tasca",
    name="Tasca do Zé",
    description="Restaurante tradicional português em Alfama, Lisboa, com noites de fado.",
    language="pt",
    tone="simpático e direto",
    docs=(
        Doc("pt-horario", "Horário e reservas",
            "Estamos abertos de terça a domingo, ao almoço das 12h00 às 15h00 e ao jantar das "
            "19h00 às 23h00. Encerramos à segunda-feira. Reservas por WhatsApp ou pelo telefone; "
            "para grupos de mais de 8 pessoas pedimos um sinal de 10 € por pessoa."),
        Doc("pt-menu", "Menu e preços", _PT_MENU),
        Doc("pt-alergenios", "Alergénios e dietas especiais", _PT_ALLERGENS),
        Doc("pt-entregas", "Take-away e entregas ao domicílio",
            "Fazemos take-away com 10% de desconto: encomende por WhatsApp e levante ao balcão. "
            "Entregas ao domicílio pela Uber Eats e pela Glovo, num raio de 5 km. O arroz de "
            "marisco não está disponível para entrega."),
        Doc("pt-fado", "Noites de fado",
            "Há fado ao vivo às quintas e aos sábados a partir das 21h30. Nessas noites há um "
            "couvert artístico de 10 € por pessoa e a reserva é obrigatória."),
        Doc("pt-localizacao", "Como chegar",
            "Estamos na Rua de São Miguel 12, em Alfama. O elétrico 28 pára no Largo das Portas "
            "do Sol, a 5 minutos a pé. Estacionar em Alfama é difícil: o parque mais próximo é o "
            "do Campo das Cebolas."),
        Doc("pt-grupos", "Grupos e eventos privados",
            "Temos uma sala privada para até 30 pessoas, ideal para aniversários e jantares de "
            "empresa. Menus de grupo de 25 € a 35 € por pessoa, com entradas, prato, sobremesa e "
            "bebidas."),
        Doc("pt-pagamento", "Formas de pagamento",
            "Aceitamos MB Way, Multibanco, Visa e Mastercard. Não aceitamos American Express "
            "nem cheques. Passamos fatura com NIF; peça-a antes de pagar."),
        Doc("pt-criancas", "Crianças",
            "Temos menu infantil a 8 € (sopa, prato pequeno e sumo) e cadeiras de bebé. "
            "Os carrinhos de bebé cabem na sala do fundo."),
    ),
    media=(Media("menu-pdf", "document", "Menu completo"),),
    staff=(Staff("Zé", "351910000111", "admin", "tudo"),),
)

ELECTRONICS = EvalMerchant(
    key="voltbox",
    name="Voltbox Electronics",
    description="Consumer electronics shop: phones, laptops, TVs, cameras and drones, online "
    "and in stores in Austin and Denver.",
    language="en",
    tone="friendly and to the point",
    docs=(
        Doc("en-returns", "Returns and refunds policy", _EN_RETURNS, "policy"),
        Doc("en-warranty", "Warranty, Voltbox Care+ and repairs", _EN_WARRANTY, "policy"),
        Doc("en-shipping", "Shipping and delivery",
            "Standard shipping takes 3 to 5 business days and is free on orders over $50 "
            "(otherwise $5.99). Express next-day delivery costs $14.99 when ordered before 2 pm. "
            "Free store pickup is usually ready in 2 hours. We ship internationally to Canada "
            "and Mexico only. Loose lithium batteries ship by ground only."),
        Doc("en-tradein", "Trade-in program",
            "Trade in your old phone, tablet, laptop or smartwatch: get a quote online, send it "
            "with the free label or bring it to a store. The value is paid as a Voltbox gift "
            "card. Devices must be factory reset and unlocked from your accounts."),
        Doc("en-pricematch", "Price match guarantee",
            "Found it cheaper? We match the price of major US retailers (Amazon sold by Amazon, "
            "Best Buy, Walmart, Target) on identical new items, before or within 14 days after "
            "your purchase. Marketplace sellers, clearance, and Black Friday doorbusters are "
            "excluded."),
        Doc("en-stores", "Store locations and opening hours",
            "Austin: 2100 South Lamar Blvd. Denver: 1600 Champa Street. Both stores open Monday "
            "to Saturday 10 am to 9 pm and Sunday 11 am to 6 pm, and close on Thanksgiving and "
            "Christmas Day."),
        Doc("en-financing", "Payment and financing",
            "We accept Visa, Mastercard, American Express, Discover, Apple Pay, Google Pay and "
            "PayPal. Orders over $300 can be financed with Affirm at 0% APR for 12 months, "
            "subject to approval. We do not accept checks or cryptocurrency."),
        Doc("en-setup", "Setup and installation services",
            "Our technicians mount TVs on the wall ($99, bracket not included), set up home "
            "theater and Wi-Fi mesh systems ($129), and transfer data to a new laptop ($49). "
            "Book a visit when you check out; we cover addresses within 25 miles of a store."),
        Doc("en-student", "Student discount",
            "Students get 10% off laptops and tablets: verify your school email (.edu) once in "
            "your account. One laptop and one tablet per year."),
    ),
    media=(Media("care-plus", "document", "Voltbox Care+ terms"),),
    staff=(
        Staff("Dana", "15125550100", "admin", "everything else"),
        Staff("Ray", "15125550101", "technical", "repairs, warranty claims, setup problems"),
    ),
)

MERCHANTS: tuple[EvalMerchant, ...] = (SHOE_SHOP, RESTAURANT, ELECTRONICS)


def merchant(key: str) -> EvalMerchant:
    return next(m for m in MERCHANTS if m.key == key)
