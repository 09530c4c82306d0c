"""The API adapters: each translates one API version's shapes to the shared application."""
