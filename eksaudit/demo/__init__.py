"""The embedded demo account: moto in server mode on loopback, seeded by eksaudit, plus its clusters' objects."""
