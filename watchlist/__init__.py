"""Rules, evidence, tiers and explanations: the daily watchlist, published per district."""
