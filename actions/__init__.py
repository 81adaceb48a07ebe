"""Custom actions of the assistant (rasa-sdk): the conversation's side of every exchange call."""

from kejibang.privacy import redact_logs

# rasa-sdk configures its logging before it imports the actions: its handlers get the redacting filter here
redact_logs()
