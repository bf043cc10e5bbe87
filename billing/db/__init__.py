"""The billing database: schema, engine and migrations to head."""
