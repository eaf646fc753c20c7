"""The API's routers: sessions and messages, medical events, deprecated shims."""
