"""Custom actions of the assistant (rasa-sdk): the conversation's side of every exchange call."""
