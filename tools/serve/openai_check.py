"""Checks a running `cohx serve` with the official `openai` Python client.

Usage: python3 tools/serve/openai_check.py http://127.0.0.1:5007
(install the client first: python3 -m pip install openai). Prints one JSON line per check and
exits non-zero on the first failure. Not run by CI (it needs the openai package).
"""
import json
import sys

from openai import OpenAI


def main(base):
    client = OpenAI(base_url=base.rstrip("/") + "/v1", api_key="unused")
    models = client.models.list()
    name = models.data[0].id
    print(json.dumps({"check": "models", "model": name}))

    c = client.completions.create(model=name, prompt="Hello", max_tokens=5, temperature=0, logprobs=1)
    ch = c.choices[0]
    assert len(ch.logprobs.tokens) == c.usage.completion_tokens, "one logprob per generated token"
    assert all(lp <= 0 for lp in ch.logprobs.token_logprobs)
    print(json.dumps({"check": "completion", "text": ch.text, "finish_reason": ch.finish_reason,
                      "usage": c.usage.model_dump()}))

    e = client.completions.create(model=name, prompt="The cat sat on the mat", max_tokens=1, temperature=0,
                                  logprobs=1, echo=True)
    lp = e.choices[0].logprobs
    assert lp.token_logprobs[0] is None and all(v is not None for v in lp.token_logprobs[1:])
    assert e.choices[0].text.startswith("The cat sat on the mat")
    print(json.dumps({"check": "echo_logprobs", "tokens": len(lp.tokens),
                      "sum_logprob": sum(v for v in lp.token_logprobs[1:])}))

    pieces = []
    for chunk in client.completions.create(model=name, prompt="Once upon a time", max_tokens=8, temperature=0.8,
                                           seed=1, stream=True):
        pieces.append(chunk.choices[0].text)
    assert len(pieces) >= 2, "streamed in pieces"
    print(json.dumps({"check": "completion_stream", "chunks": len(pieces), "text": "".join(pieces)}))

    r = client.chat.completions.create(model=name, messages=[{"role": "user", "content": "How do I boil an egg?"}],
                                       max_tokens=8, temperature=0)
    print(json.dumps({"check": "chat", "content": r.choices[0].message.content,
                      "finish_reason": r.choices[0].finish_reason}))

    deltas = []
    for chunk in client.chat.completions.create(model=name, messages=[{"role": "user", "content": "Hi"}],
                                                max_tokens=8, temperature=0, stream=True):
        if chunk.choices and chunk.choices[0].delta.content:
            deltas.append(chunk.choices[0].delta.content)
    assert "".join(deltas).strip() == r.choices[0].message.content.strip() or deltas, "chat stream delivered text"
    print(json.dumps({"check": "chat_stream", "chunks": len(deltas), "text": "".join(deltas)}))

    try:
        client.completions.create(model=name, prompt="x", max_tokens=2, temperature=-1)
        raise AssertionError("a negative temperature must be refused")
    except Exception as ex:  # openai.BadRequestError
        assert getattr(ex, "status_code", None) == 400, ex
        print(json.dumps({"check": "bad_request", "status": 400, "message": str(ex)[:120]}))
    print(json.dumps({"openai_check": "passed"}))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:5007")
