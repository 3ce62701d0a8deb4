"""Shopify's Admin API: the only code that reads or builds Shopify payloads.

`client` talks GraphQL (shop facts, product pages, bulk operations, webhook subscriptions)
under the cost-based throttle; `records` turns GraphQL nodes, bulk JSONL lines and REST
webhook bodies into our own `ProductRecord`s; `webhook` checks and reads webhook requests.
"""
