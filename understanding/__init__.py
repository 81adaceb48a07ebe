"""The Rasa side of understanding farmers: pipeline components that read a message with a pretrained
sentence encoder and never let a question about a crop or an animal fall through as a greeting."""
