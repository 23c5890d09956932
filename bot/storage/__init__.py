"""The database: engine, one repository per aggregate, the Store container (`await store.run`)."""
