"""Finding products in a merchant's synced catalog for a customer's request.

Candidates are the store's active products (drafts and archived never) whose full-text
vector, in the shop's language with stemming and without accents, holds any query word, or
whose title is close to the query by trigrams (typos: "runing shoos"). Their variants are
then filtered in Python, where option names and values are compared loosely (case and
accents ignored, "colour" for "color"): a requested option the product has must match the
variant; one it lacks must appear in the product's words, or the product ranks lower.

Ranking: products with a matching variant in stock first, then more exact option matches,
then the text score (full-text rank plus title similarity).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import Float, Text, func, literal, literal_column, or_, select
from sqlalchemy.orm import Session, selectinload

from persistence.models import (
    TS_CONFIG_FUNCTION,
    UNACCENT_FUNCTION,
    Product,
    ProductVariant,
    ShopifyStore,
)

CANDIDATES = 60
TITLE_SIMILARITY = 0.35  # pg_trgm word_similarity of the query within a title
_SYNONYMS = {"colour": "color", "talla": "size", "taille": "size", "größe": "size",
             "tamaño": "size", "tamanho": "size", "colore": "color", "farbe": "color",
             "couleur": "color", "cor": "color"}  # fmt: skip


@dataclass(frozen=True)
class ProductQuery:
    text: str
    max_price: Decimal | None = None
    in_stock_only: bool = True
    options: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ProductMatch:
    product: Product
    variants: list[ProductVariant]  # the ones that fit, cheapest in stock first
    in_stock: bool
    exact_options: int
    score: float


def normalize(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value.strip().lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def option_name(value: str) -> str:
    name = normalize(value)
    return _SYNONYMS.get(name, name)


def search_products(
    session: Session, merchant_id: int, query: ProductQuery, *, limit: int = 5
) -> list[ProductMatch]:
    language = session.scalar(
        select(ShopifyStore.primary_locale).where(ShopifyStore.merchant_id == merchant_id)
    )
    scored = _candidates(session, merchant_id, query.text, language or "en")
    matches = [m for product, score in scored if (m := match_product(product, query, score))]
    matches.sort(key=lambda m: (m.in_stock, m.exact_options, m.score), reverse=True)
    return matches[:limit]


def _candidates(
    session: Session, merchant_id: int, text: str, language: str
) -> list[tuple[Product, float]]:
    """Constant query terms (the shop's language, not each row's) so PostgreSQL computes
    them once and answers from the full-text and trigram indexes."""
    words = re.findall(r"\w+", text.lower())[:20]
    unaccent = getattr(func, UNACCENT_FUNCTION)
    config = getattr(func, TS_CONFIG_FUNCTION)(literal(language, Text))
    tsquery = func.websearch_to_tsquery(config, unaccent(literal(" or ".join(words), Text)))
    title = unaccent(func.lower(Product.title))
    query_text = literal(normalize(" ".join(words)), Text)
    similarity = func.word_similarity(query_text, title)
    rank = func.ts_rank_cd(Product.search_vector, tsquery, literal_column("32"))
    score = (rank + similarity).cast(Float).label("score")
    stmt = (
        select(Product, score)
        .where(Product.merchant_id == merchant_id, Product.status == "active")
        .options(selectinload(Product.variants))
        .order_by(score.desc(), Product.id)
        .limit(CANDIDATES)
    )
    if words:
        # `q <% title`: word_similarity(q, title) above the threshold, through the index
        session.execute(
            select(
                func.set_config("pg_trgm.word_similarity_threshold", str(TITLE_SIMILARITY), True)
            )
        )
        stmt = stmt.where(or_(Product.search_vector.op("@@")(tsquery), query_text.op("<%")(title)))
    return [(product, float(value or 0)) for product, value in session.execute(stmt).all()]


def match_product(product: Product, query: ProductQuery, score: float) -> ProductMatch | None:
    """The product's variants that fit the query, or None when none does."""
    names = {option_name(n) for v in product.variants for n in v.options}
    words = normalize(f"{product.title} {product.search_text}")
    wanted = {option_name(k): normalize(v) for k, v in query.options.items() if v.strip()}
    bonus = sum(1 for n, v in wanted.items() if n not in names and v in words.split())
    missing = sum(1 for n, v in wanted.items() if n not in names and v not in words.split())
    fitting = [
        v for v in product.variants
        if _variant_fits(v, wanted, names, query)
    ]  # fmt: skip
    if not fitting:
        return None
    fitting.sort(key=lambda v: (not v.available, v.price, v.position))
    exact = bonus + sum(1 for n in wanted if n in names)
    return ProductMatch(
        product=product, variants=fitting, in_stock=fitting[0].available,
        exact_options=exact - missing, score=score,
    )  # fmt: skip


def _variant_fits(
    variant: ProductVariant, wanted: dict[str, str], names: set[str], query: ProductQuery
) -> bool:
    if query.max_price is not None and variant.price > query.max_price:
        return False
    if query.in_stock_only and not variant.available:
        return False
    own = {option_name(k): normalize(str(v)) for k, v in variant.options.items()}
    return all(own.get(name) == value for name, value in wanted.items() if name in names)
