"""The GraphQL documents we send to Shopify's Admin API."""

_VARIANT = """
  id legacyResourceId title sku price compareAtPrice inventoryQuantity availableForSale
  position selectedOptions { name value } inventoryItem { id legacyResourceId }
"""
_PRODUCT = """
  id legacyResourceId title handle description status productType vendor tags updatedAt
  onlineStoreUrl featuredImage { url }
"""

SHOP = """
query Shop { shop { name currencyCode myshopifyDomain primaryDomain { url } } }
"""

# needs the read_locales scope: asked apart, so a token without it still connects
LOCALES = "query Locales { shopLocales { locale primary } }"

PRODUCT_COUNT = "query ProductCount { productsCount { count } }"

PRODUCTS = f"""
query Products($first: Int!, $after: String) {{
  products(first: $first, after: $after, sortKey: ID) {{
    pageInfo {{ hasNextPage endCursor }}
    edges {{ node {{
      {_PRODUCT}
      images(first: 10) {{ edges {{ node {{ url }} }} }}
      collections(first: 10) {{ edges {{ node {{ title }} }} }}
      variants(first: 100) {{ edges {{ node {{ {_VARIANT} }} }} }}
    }} }}
  }}
}}
"""

PRODUCT = f"""
query Product($id: ID!) {{
  product(id: $id) {{
    {_PRODUCT}
    images(first: 10) {{ edges {{ node {{ url }} }} }}
    collections(first: 10) {{ edges {{ node {{ title }} }} }}
    variants(first: 100) {{ edges {{ node {{ {_VARIANT} }} }} }}
  }}
}}
"""

# Bulk queries name connections without arguments; children come back on their own lines.
BULK_PRODUCTS = f"""
{{
  products {{ edges {{ node {{
    {_PRODUCT}
    images {{ edges {{ node {{ id url }} }} }}
    variants {{ edges {{ node {{ {_VARIANT} }} }} }}
  }} }} }}
}}
"""

BULK_RUN = """
mutation BulkRun($query: String!) {
  bulkOperationRunQuery(query: $query) {
    bulkOperation { id status }
    userErrors { field message }
  }
}
"""

BULK_CURRENT = """
query BulkCurrent { currentBulkOperation { id status errorCode objectCount url } }
"""

WEBHOOK_CREATE = """
mutation WebhookCreate($topic: WebhookSubscriptionTopic!, $url: URL!) {
  webhookSubscriptionCreate(topic: $topic,
                            webhookSubscription: {callbackUrl: $url, format: JSON}) {
    webhookSubscription { id }
    userErrors { field message }
  }
}
"""

WEBHOOK_DELETE = """
mutation WebhookDelete($id: ID!) {
  webhookSubscriptionDelete(id: $id) { deletedWebhookSubscriptionId userErrors { message } }
}
"""

_ORDER = """
  id legacyResourceId name email phone createdAt cancelledAt note statusPageUrl
  displayFinancialStatus displayFulfillmentStatus
  currentTotalPriceSet { shopMoney { amount currencyCode } }
  customAttributes { key value }
  shippingAddress { phone countryCodeV2 }
  customer { phone }
  lineItems(first: 50) { nodes { title quantity variant { legacyResourceId } } }
  fulfillments(first: 10) {
    legacyResourceId status displayStatus trackingInfo(first: 1) { company number url }
  }
"""

# needs the read_orders scope; `query` uses Shopify's search syntax (name:#1001, email:x)
ORDERS = f"""
query Orders($first: Int!, $query: String!) {{
  orders(first: $first, query: $query, sortKey: CREATED_AT, reverse: true) {{
    nodes {{ {_ORDER} }}
  }}
}}
"""

ORDER = f"""
query Order($id: ID!) {{ order(id: $id) {{ {_ORDER} }} }}
"""
