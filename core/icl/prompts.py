"""Prompts: the instruction, demonstrations as earlier turns, the query, rendered exactly.

With an instruct model (a tokenizer with a chat template) the instruction is the system message,
each demonstration is a user turn (the example template filled with its text) followed by an
assistant turn (its verbalised answer), and the query is the last user turn; the prompt ends
with the template's generation prompt. Without a chat template the same parts are joined as
plain text ("instruction\n\n<example> <answer>\n\n...<query example>").
"""
from __future__ import annotations

from dataclasses import dataclass

from core.icl.config import IclConfig
from core.base.types import Example

NONE_ANSWER = "none"


@dataclass(frozen=True)
class Demo:
    text: str
    answer: str
    sample_id: int | None = None


def clip(text: str, max_chars: int) -> str:
    """``text`` cut at a word boundary to about ``max_chars`` characters (long reviews make slow prompts)."""
    if len(text) <= max_chars:
        return text
    cut = text[:max_chars].rsplit(" ", 1)[0]
    return f"{cut} …"


def answer_for(example: Example, task: str) -> str:
    """The verbalised gold answer of a demonstration."""
    if task == "classification":
        return ", ".join(example.categories)
    lines = [f"{s.label}: {example.text[s.start:s.end]}" for s in sorted(example.spans)]
    return "\n".join(lines) if lines else NONE_ANSWER


def demo_of(example: Example, config: IclConfig) -> Demo:
    return Demo(clip(example.text, config.max_text_chars), answer_for(example, config.task), example.id)


def instruction(config: IclConfig, labels: list[str]) -> str:
    described = [(l, config.label_descriptions.get(l, "").strip()) for l in labels]
    descriptions = "".join(f"- {l}: {d}\n" for l, d in described if d)
    return config.instruction.format(labels=", ".join(labels), descriptions=descriptions).strip()


def messages(config: IclConfig, labels: list[str], demos: list[Demo], text: str) -> list[dict]:
    """Chat messages: system instruction, (user, assistant) per demonstration, the query."""
    out = [{"role": "system", "content": instruction(config, labels)}]
    for demo in demos:
        out.append({"role": "user", "content": config.example.format(text=demo.text)})
        out.append({"role": "assistant", "content": demo.answer})
    out.append({"role": "user", "content": config.example.format(text=clip(text, config.max_text_chars))})
    return out


def render(tokenizer, chat: list[dict]) -> str:
    """The exact prompt string the model reads (ends where the answer starts)."""
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(chat, tokenize=False, add_generation_prompt=True)
    parts = [chat[0]["content"]]
    turns = chat[1:]
    for user, assistant in zip(turns[0:-1:2], turns[1:-1:2]):
        parts.append(f"{user['content']} {assistant['content']}")
    parts.append(turns[-1]["content"])
    return "\n\n".join(parts)


def continuation(tokenizer, chat: list[dict], prompt: str, answer: str) -> str:
    """The text that follows ``prompt`` when the model answers ``answer`` and ends its turn.

    Scoring the end-of-turn marker too makes "positive" and "positive-ish" different answers.
    """
    if getattr(tokenizer, "chat_template", None):
        full = tokenizer.apply_chat_template(
            chat + [{"role": "assistant", "content": answer}], tokenize=False
        )
        if full.startswith(prompt):
            return full[len(prompt):].rstrip()
        # A template that rewrites earlier turns once an answer follows: score the bare answer.
        return answer
    return f" {answer}\n"
