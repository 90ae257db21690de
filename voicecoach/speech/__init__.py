"""Speech: synthesis of prompts, recognition of answers, and the decision in between."""
