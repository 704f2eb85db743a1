"""In-context learning: few-shot prompting of a small causal LM, compared with fine-tuning."""
