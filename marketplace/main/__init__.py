"""Site-wide pages and plumbing: landing, dashboard routing, context and language switches, error pages,
security headers, template helpers."""
