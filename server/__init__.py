"""FieldCheck's API server. The app factory is server.app.create_app."""
