"""The web layer: Flask blueprints for the webhooks and the shop's API, and the `flask` commands."""
