"""From a villager's words to ranked experts and articles."""
