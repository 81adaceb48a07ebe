"""What the exchange and the assistant's own store both stand on: the database machinery and the clock."""
