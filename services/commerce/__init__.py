"""Commerce: a merchant's Shopify store, its catalog kept in our database, product search."""
