"""The relay: room registry, WebSocket consumer and process-level fan-out."""
