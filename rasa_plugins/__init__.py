"""Plug-ins Rasa loads by module path (endpoints.yml, deploy/endpoints.production.yml) and the tracker helpers
that act on Rasa's own tables: the SQL tracker store and the Redis lock store."""
