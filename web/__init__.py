"""Flask plumbing the blueprints share: security, rate limits, gates, tokens, forms, TOTP,
errors, filters, fragments and log redaction."""
