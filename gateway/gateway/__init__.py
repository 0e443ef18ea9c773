"""Kamqor gateway: REST /v1 over the services' gRPC APIs, authentication, problem+json errors."""
