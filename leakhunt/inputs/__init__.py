"""Input enumeration: each input kind yields blobs of bytes with their provenance."""
