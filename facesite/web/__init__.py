"""Everything that answers a request: the blueprints (one package per staff task), their forms, the page
helpers they share, the error pages and /metrics. Nothing outside this package imports it."""
