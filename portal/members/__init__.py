"""Members: one person across every store of the brand (One ID), the identities the
mini-programs know them by, the store and guide that serve them (the service relationship that
decides commissions), tiers, tags, groups and RFM segments."""
