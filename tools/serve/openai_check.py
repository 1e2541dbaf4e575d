"""Checks a running `cohx serve` with the official `openai` Python client.

Usage: python3 tools/serve/openai_check.py http://127.0.0.1:5007
(install the client first: python3 -m pip install -r tools/serve/requirements.txt). Prints one JSON line per check and
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

    # Top-k alternatives, plain and streamed: the same tokens, log-probs and alternatives.
    t = client.completions.create(model=name, prompt="The weather today", max_tokens=6, temperature=0, logprobs=3)
    tl = t.choices[0].logprobs
    assert len(tl.tokens) == t.usage.completion_tokens
    for i, top in enumerate(tl.top_logprobs):
        assert 2 <= len(top) <= 4, top
        values = list(top.values())
        assert values == sorted(values, reverse=True), top
        assert abs(values[0] - tl.token_logprobs[i]) < 1e-5, "greedy: the chosen token is the most likely"
    streamed_tokens, streamed_lp = [], []
    for chunk in client.completions.create(model=name, prompt="The weather today", max_tokens=6, temperature=0, logprobs=3,
                                           stream=True):
        lp = chunk.choices[0].logprobs
        if lp is not None:
            streamed_tokens += lp.tokens
            streamed_lp += lp.token_logprobs
            assert len(lp.top_logprobs) == len(lp.tokens)
    assert streamed_tokens == tl.tokens, (streamed_tokens, tl.tokens)
    assert all(abs(a - b) < 1e-5 for a, b in zip(streamed_lp, tl.token_logprobs))
    print(json.dumps({"check": "completion_top_logprobs", "tokens": tl.tokens, "top": tl.top_logprobs}))

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

    cl = client.chat.completions.create(model=name, messages=[{"role": "user", "content": "Name a fruit"}], max_tokens=5,
                                        temperature=0, logprobs=True, top_logprobs=2)
    content = cl.choices[0].logprobs.content
    assert content and all(len(c.top_logprobs) == 2 and abs(c.top_logprobs[0].logprob - c.logprob) < 1e-5 for c in content)
    chat_streamed = []
    for chunk in client.chat.completions.create(model=name, messages=[{"role": "user", "content": "Name a fruit"}], max_tokens=5,
                                                temperature=0, logprobs=True, top_logprobs=2, stream=True):
        if chunk.choices and chunk.choices[0].logprobs and chunk.choices[0].logprobs.content:
            chat_streamed += [c.token for c in chunk.choices[0].logprobs.content]
    assert chat_streamed == [c.token for c in content], (chat_streamed, [c.token for c in content])
    print(json.dumps({"check": "chat_top_logprobs", "tokens": [c.token for c in content],
                      "top": [[(t.token, t.logprob) for t in c.top_logprobs] for c in content]}))

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
