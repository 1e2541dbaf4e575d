package io.cohx.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.cohx.models.generate.Generator;
import io.cohx.models.generate.Sampling;
import io.cohx.models.generate.Scorer;
import io.cohx.models.generate.Token;
import io.cohx.models.tokenizer.ChatTemplate;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The OpenAI-style API of {@link LmServer}: {@code /v1/completions} (string or token prompts,
 * {@code echo}, {@code logprobs} — the N most likely alternatives per generated token, plain and
 * streamed —, {@code stop}, {@code seed}, streaming), {@code /v1/chat/completions} (messages
 * turned into a prompt by the server's {@link ChatFormat}: the model's chat template, or for a
 * model without one the CoH format ending with the feedback phrase, which the extension field
 * {@code lm_prefix} replaces; {@code logprobs} and
 * {@code top_logprobs}), {@code /v1/models}, and the tokenizer endpoints ({@code /tokenizer_info},
 * {@code /tokenize}, {@code /detokenize}) that lm-evaluation-harness's {@code local-completions}
 * uses instead of downloading a tokenizer. Extension: {@code top_k}.
 */
final class OpenAiApi {
    private final LmServer server;
    private final AtomicLong ids = new AtomicLong();

    OpenAiApi(LmServer server) {
        this.server = server;
    }

    int route(Http ex, String method, String path) throws IOException {
        boolean get = method.equals("GET") || method.equals("HEAD");
        boolean post = method.equals("POST");
        switch (path) {
            case "/v1/completions" -> {
                if (!post) return LmServer.notAllowed(ex, "POST");
                completions(ex);
            }
            case "/v1/chat/completions" -> {
                if (!post) return LmServer.notAllowed(ex, "POST");
                chatCompletions(ex);
            }
            case "/v1/models" -> {
                if (!get) return LmServer.notAllowed(ex, "GET");
                ObjectNode out = Http.JSON.createObjectNode();
                out.put("object", "list");
                ObjectNode m = out.putArray("data").addObject();
                m.put("id", server.options().modelName());
                m.put("object", "model");
                m.put("owned_by", "cohx");
                m.put("max_model_len", server.options().seqLength());
                ex.json(200, out);
            }
            case "/tokenizer_info" -> {
                if (!get) return LmServer.notAllowed(ex, "GET");
                ObjectNode out = Http.JSON.createObjectNode();
                putPiece(out, "eos_token", server.tokenizer().eosId());
                putPiece(out, "bos_token", server.tokenizer().bosId());
                putPiece(out, "pad_token", server.tokenizer().padId());
                out.put("model_max_length", server.options().seqLength());
                ex.json(200, out);
            }
            case "/tokenize" -> {
                if (!post) return LmServer.notAllowed(ex, "POST");
                Fields f = ex.body();
                int[] t = server.prompts().encodeWithSpecials(f.string("prompt"));
                if (f.bool("add_special_tokens", false) && server.prompts().bos() >= 0) {
                    t = prepend(server.prompts().bos(), t);
                }
                ex.json(200, Map.of("tokens", t, "count", t.length, "max_model_len", server.options().seqLength()));
            }
            case "/detokenize" -> {
                if (!post) return LmServer.notAllowed(ex, "POST");
                Fields f = ex.body();
                ex.json(200, Map.of("prompt", server.prompts().decode(tokenList(f.get("tokens"), "tokens"))));
            }
            default -> {
                ex.json(404, Http.error("no endpoint " + path + "; see / (chat), /v1/completions, /v1/chat/completions, "
                        + "/loglikelihood, /loglikelihood-rolling, /generate, /greedy-until, /chat, /ready, /health, /metrics",
                        "not_found", null));
                return 404;
            }
        }
        return 200;
    }

    private void putPiece(ObjectNode out, String key, int id) {
        if (id < 0) {
            out.putNull(key);
        } else {
            out.put(key, server.tokenizer().idToPiece(id));
        }
    }

    // ---- /v1/completions ------------------------------------------------------------------------

    /** One prompt: its tokens and its text (for echo). */
    private record Prompt(int[] tokens, String text) {}

    private void completions(Http ex) throws IOException {
        Fields f = ex.body();
        ServeOptions o = server.options();
        List<Prompt> prompts = prompts(f);
        int maxTokens = f.integer("max_tokens", 16, 0, o.seqLength());
        Sampling sampling = sampling(f);
        boolean stream = f.bool("stream", false);
        boolean echo = f.bool("echo", false);
        Integer logprobs = f.has("logprobs") ? f.integer("logprobs", 0, 0, o.batching().maxLogprobs()) : null;
        if (f.integer("n", 1, 1, 1) != 1) {
            throw new BadRequest("n", "only n = 1 is supported");
        }
        List<String> stop = stops(f);
        for (Prompt p : prompts) {
            if (p.tokens().length + maxTokens > o.seqLength()) {
                throw new BadRequest("max_tokens", "the prompt (" + p.tokens().length + " tokens) plus max_tokens (" + maxTokens
                        + ") exceeds the context of " + o.seqLength() + " tokens");
            }
            if (maxTokens > 0 && p.tokens().length > o.inputLength()) {
                throw new BadRequest("prompt", "a prompt of " + p.tokens().length + " tokens is longer than the server's input length ("
                        + o.inputLength() + " tokens, --input-length)");
            }
        }
        List<Scorer.Scored> echoed = echo && logprobs != null ? server.score(prompts.stream()
                .filter(p -> p.tokens().length > 1).map(p -> Scorer.Row.allButFirst(p.tokens())).toList()) : List.of();
        String id = "cmpl-" + ids.incrementAndGet();
        long created = System.currentTimeMillis() / 1000;
        int alternatives = logprobs == null ? 0 : logprobs;
        List<Generator.Request> rows = new ArrayList<>();
        for (Prompt p : prompts) {
            rows.add(new Generator.Request(p.tokens(), maxTokens, sampling, stop, null, alternatives));
        }
        if (stream) {
            var events = ex.events();
            int[] offsets = new int[prompts.size()];
            int echoAt = 0;
            if (echo) {
                for (int i = 0; i < prompts.size(); i++) {
                    Prompt p = prompts.get(i);
                    ObjectNode lp = null;
                    if (logprobs != null) {
                        lp = logprobsObject();
                        offsets[i] = addPrompt(lp, p, p.tokens().length > 1 ? echoed.get(echoAt++) : null, logprobs);
                    } else {
                        offsets[i] = p.text().length();
                    }
                    events.send(completionChunk(id, created, i, p.text(), lp, null));
                }
            }
            List<Generator.Result> res = maxTokens == 0 ? null : server.runGenerate(rows, (row, text, token) -> {
                if (logprobs == null) {
                    if (!text.isEmpty()) {
                        events.send(completionChunk(id, created, row, text, null, null));
                    }
                    return;
                }
                ObjectNode lp = logprobsObject();
                if (token != null) {
                    offsets[row] = addToken(lp, token, logprobs, offsets[row]);
                }
                events.send(completionChunk(id, created, row, text, lp, null));
            });
            for (int i = 0; i < prompts.size(); i++) {
                events.send(completionChunk(id, created, i, "", null, res == null ? "length" : res.get(i).finish().openAi()));
            }
            events.sendRaw("[DONE]");
            events.close();
            return;
        }
        List<Generator.Result> res = maxTokens == 0 ? null : server.runGenerate(rows, null);
        ObjectNode out = Http.JSON.createObjectNode();
        out.put("id", id);
        out.put("object", "text_completion");
        out.put("created", created);
        out.put("model", o.modelName());
        ArrayNode choices = out.putArray("choices");
        int echoAt = 0;
        long promptTokens = 0;
        long completionTokens = 0;
        for (int i = 0; i < prompts.size(); i++) {
            Prompt p = prompts.get(i);
            Generator.Result r = res == null ? null : res.get(i);
            ObjectNode c = choices.addObject();
            c.put("index", i);
            c.put("text", (echo ? p.text() : "") + (r == null ? "" : r.text()));
            if (logprobs == null) {
                c.putNull("logprobs");
            } else {
                ObjectNode lp = logprobsObject();
                int offset = 0;
                if (echo) {
                    offset = addPrompt(lp, p, p.tokens().length > 1 ? echoed.get(echoAt++) : null, logprobs);
                }
                if (r != null) {
                    for (int t = 0; t < r.tokens().length; t++) {
                        offset = addToken(lp, new Token(r.tokens()[t], r.logprobs()[t], r.top()[t], r.topLogprobs()[t]), logprobs, offset);
                    }
                }
                c.set("logprobs", lp);
            }
            c.put("finish_reason", r == null ? "length" : r.finish().openAi());
            promptTokens += p.tokens().length;
            completionTokens += r == null ? 0 : r.tokens().length;
        }
        usage(out, promptTokens, completionTokens);
        ex.json(200, out);
    }

    private List<Prompt> prompts(Fields f) {
        JsonNode p = f.get("prompt");
        if (p == null || p.isNull()) {
            throw new BadRequest("prompt", "'prompt' is required: a string, a list of strings, a list of token ids or a list of such lists");
        }
        List<Prompt> out = new ArrayList<>();
        if (p.isTextual()) {
            out.add(textPrompt(p.textValue()));
        } else if (p.isArray() && !p.isEmpty() && p.get(0).isNumber()) {
            int[] t = tokenList(p, "prompt");
            out.add(new Prompt(t, server.prompts().decode(t)));
        } else if (p.isArray() && !p.isEmpty()) {
            for (int i = 0; i < p.size(); i++) {
                JsonNode e = p.get(i);
                if (e.isTextual()) {
                    out.add(textPrompt(e.textValue()));
                } else if (e.isArray()) {
                    int[] t = tokenList(e, "prompt");
                    out.add(new Prompt(t, server.prompts().decode(t)));
                } else {
                    throw new BadRequest("prompt", "'prompt[" + i + "]' must be a string or a list of token ids");
                }
            }
        } else {
            throw new BadRequest("prompt", "'prompt' must be a string, a list of strings, a list of token ids or a list of such lists");
        }
        if (out.size() > 64) {
            throw new BadRequest("prompt", "at most 64 prompts per request, got " + out.size());
        }
        return out;
    }

    private Prompt textPrompt(String text) {
        int[] t = server.prompts().encode(text);
        int bos = server.prompts().bos();
        if (bos >= 0) {
            t = prepend(bos, t);
        }
        if (t.length == 0) {
            throw new BadRequest("prompt", "the prompt is empty and the tokenizer has no bos token to start from");
        }
        return new Prompt(t, text);
    }

    private int[] tokenList(JsonNode n, String field) {
        if (n == null || !n.isArray() || n.isEmpty()) {
            throw new BadRequest(field, "'" + field + "' must be a non-empty list of token ids");
        }
        int vocab = server.tokenizer().vocabSize();
        int[] t = new int[n.size()];
        for (int i = 0; i < t.length; i++) {
            JsonNode e = n.get(i);
            if (!e.isIntegralNumber() || !e.canConvertToInt() || e.intValue() < 0 || e.intValue() >= vocab) {
                throw new BadRequest(field, "'" + field + "' holds " + e + ", which is not a token id in 0.." + (vocab - 1));
            }
            t[i] = e.intValue();
        }
        return t;
    }

    private Sampling sampling(Fields f) {
        double temperature = f.number("temperature", 1.0, 0, 100);
        double topP = f.number("top_p", 1.0, Double.MIN_VALUE, 1);
        int topK = f.integer("top_k", 0, 0, Integer.MAX_VALUE);
        Long seed = f.optionalLong("seed");
        return new Sampling(temperature, topK, topP, seed != null ? seed : server.nextSeed());
    }

    private static List<String> stops(Fields f) {
        if (!f.has("stop")) {
            return List.of();
        }
        List<String> s = f.stringOrList("stop");
        if (s.size() > 16) {
            throw new BadRequest("stop", "at most 16 stop strings, got " + s.size());
        }
        return s;
    }

    // ---- log-probs in the completions shape: parallel lists --------------------------------------

    private static ObjectNode logprobsObject() {
        ObjectNode lp = Http.JSON.createObjectNode();
        lp.putArray("tokens");
        lp.putArray("token_logprobs");
        lp.putArray("top_logprobs");
        lp.putArray("text_offset");
        return lp;
    }

    /** Adds the echoed prompt's tokens (the first has no log-prob); returns the text offset after them. */
    private int addPrompt(ObjectNode lp, Prompt p, Scorer.Scored scored, int n) {
        int offset = 0;
        int[] t = p.tokens();
        for (int i = 0; i < t.length; i++) {
            String s = piece(t[i]);
            ((ArrayNode) lp.get("tokens")).add(s);
            ((ArrayNode) lp.get("text_offset")).add(offset);
            offset += s.length();
            if (i == 0 || scored == null) {
                ((ArrayNode) lp.get("token_logprobs")).addNull();
                ((ArrayNode) lp.get("top_logprobs")).addNull();
            } else {
                float v = scored.tokenLogprobs()[i - 1];
                ((ArrayNode) lp.get("token_logprobs")).add(v);
                // Prompt positions carry the most likely token only (the scoring pass reports one).
                ObjectNode top = ((ArrayNode) lp.get("top_logprobs")).addObject();
                if (n > 0) {
                    top.put(piece(scored.argmax()[i - 1]), scored.argmaxLogprobs()[i - 1]);
                }
                top.put(s, v);
            }
        }
        return offset;
    }

    /**
     * Adds one generated token: its piece, log-prob, text offset, and the {@code n} most likely
     * tokens plus the chosen one (as OpenAI's completions API does); returns the next offset.
     */
    private int addToken(ObjectNode lp, Token token, int n, int offset) {
        String s = piece(token.id());
        ((ArrayNode) lp.get("tokens")).add(s);
        ((ArrayNode) lp.get("token_logprobs")).add(token.logprob());
        ((ArrayNode) lp.get("text_offset")).add(offset);
        ObjectNode top = ((ArrayNode) lp.get("top_logprobs")).addObject();
        for (int j = 0; j < Math.min(n, token.top().length); j++) {
            top.put(piece(token.top()[j]), token.topLogprobs()[j]);
        }
        top.put(s, token.logprob());
        return offset + s.length();
    }

    private String piece(int id) {
        return server.prompts().decode(new int[] {id});
    }

    private ObjectNode completionChunk(String id, long created, int index, String text, ObjectNode logprobs, String finish) {
        ObjectNode c = Http.JSON.createObjectNode();
        c.put("id", id);
        c.put("object", "text_completion");
        c.put("created", created);
        c.put("model", server.options().modelName());
        ObjectNode ch = c.putArray("choices").addObject();
        ch.put("index", index);
        ch.put("text", text);
        if (logprobs == null) {
            ch.putNull("logprobs");
        } else {
            ch.set("logprobs", logprobs);
        }
        if (finish == null) {
            ch.putNull("finish_reason");
        } else {
            ch.put("finish_reason", finish);
        }
        return c;
    }

    private void usage(ObjectNode out, long prompt, long completion) {
        ObjectNode u = out.putObject("usage");
        u.put("prompt_tokens", prompt);
        u.put("completion_tokens", completion);
        u.put("total_tokens", prompt + completion);
    }

    // ---- /v1/chat/completions -------------------------------------------------------------------

    private void chatCompletions(Http ex) throws IOException {
        Fields f = ex.body();
        ServeOptions o = server.options();
        List<ChatTemplate.Message> messages = messages(f.get("messages"));
        String lmPrefix = f.string("lm_prefix", o.chatLmPrefix());
        ChatFormat format = server.chatFormat();
        int[] tokens = format.tokens(messages, lmPrefix);
        if (tokens.length == 0) {
            throw new BadRequest("messages", "the conversation renders to no tokens");
        }
        if (tokens.length > o.inputLength()) {
            throw new BadRequest("messages", "the conversation is " + tokens.length + " tokens, longer than the server's input length ("
                    + o.inputLength() + " tokens, --input-length); drop earlier messages");
        }
        int room = o.seqLength() - tokens.length;
        String maxField = f.has("max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
        int maxTokens = f.integer(maxField, Math.min(room, o.seqLength() - o.inputLength()), 1, o.seqLength());
        if (maxTokens > room) {
            throw new BadRequest(maxField, "the conversation (" + tokens.length + " tokens) plus " + maxField + " (" + maxTokens
                    + ") exceeds the context of " + o.seqLength() + " tokens");
        }
        if (f.integer("n", 1, 1, 1) != 1) {
            throw new BadRequest("n", "only n = 1 is supported");
        }
        boolean logprobs = f.bool("logprobs", false);
        int topLogprobs = f.integer("top_logprobs", 0, 0, o.batching().maxLogprobs());
        if (topLogprobs > 0 && !logprobs) {
            throw new BadRequest("top_logprobs", "'top_logprobs' needs 'logprobs': true");
        }
        Sampling sampling = sampling(f);
        List<String> stop = new ArrayList<>(stops(f));
        stop.addAll(format.stops());
        var row = new Generator.Request(tokens, maxTokens, sampling, stop, null, logprobs ? topLogprobs : 0, format.endTokens());
        String id = "chatcmpl-" + ids.incrementAndGet();
        long created = System.currentTimeMillis() / 1000;
        if (f.bool("stream", false)) {
            var events = ex.events();
            ObjectNode role = Http.JSON.createObjectNode();
            role.put("role", "assistant");
            role.put("content", "");
            events.send(chatChunk(id, created, role, null, null));
            boolean[] started = {false};
            List<Generator.Result> res = server.runGenerate(List.of(row), (r, piece, token) -> {
                String shown = started[0] ? piece : piece.stripLeading();
                started[0] |= !shown.isEmpty();
                ArrayNode content = null;
                if (logprobs && token != null) {
                    content = Http.JSON.createArrayNode();
                    content.add(chatLogprob(token, topLogprobs));
                }
                if (shown.isEmpty() && content == null) {
                    return;
                }
                ObjectNode d = Http.JSON.createObjectNode();
                d.put("content", shown);
                events.send(chatChunk(id, created, d, content, null));
            });
            events.send(chatChunk(id, created, Http.JSON.createObjectNode(), null, res.getFirst().finish().openAi()));
            events.sendRaw("[DONE]");
            events.close();
            return;
        }
        Generator.Result r = server.runGenerate(List.of(row), null).getFirst();
        ObjectNode out = Http.JSON.createObjectNode();
        out.put("id", id);
        out.put("object", "chat.completion");
        out.put("created", created);
        out.put("model", o.modelName());
        ObjectNode c = out.putArray("choices").addObject();
        c.put("index", 0);
        ObjectNode m = c.putObject("message");
        m.put("role", "assistant");
        m.put("content", r.text().strip());
        if (logprobs) {
            ArrayNode content = c.putObject("logprobs").putArray("content");
            for (int t = 0; t < r.tokens().length; t++) {
                content.add(chatLogprob(new Token(r.tokens()[t], r.logprobs()[t], r.top()[t], r.topLogprobs()[t]), topLogprobs));
            }
        } else {
            c.putNull("logprobs");
        }
        c.put("finish_reason", r.finish().openAi());
        usage(out, tokens.length, r.tokens().length);
        ex.json(200, out);
    }

    /** One token in the chat shape: {token, logprob, bytes, top_logprobs: [{token, logprob, bytes}]}. */
    private ObjectNode chatLogprob(Token token, int n) {
        ObjectNode e = tokenEntry(token.id(), token.logprob());
        ArrayNode top = e.putArray("top_logprobs");
        for (int j = 0; j < Math.min(n, token.top().length); j++) {
            top.add(tokenEntry(token.top()[j], token.topLogprobs()[j]));
        }
        return e;
    }

    private ObjectNode tokenEntry(int id, float logprob) {
        String s = piece(id);
        ObjectNode e = Http.JSON.createObjectNode();
        e.put("token", s);
        e.put("logprob", logprob);
        ArrayNode bytes = e.putArray("bytes");
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            bytes.add(b & 0xff);
        }
        return e;
    }

    private static List<ChatTemplate.Message> messages(JsonNode n) {
        if (n == null || !n.isArray() || n.isEmpty()) {
            throw new BadRequest("messages", "'messages' is required: a non-empty list of {role, content}");
        }
        List<ChatTemplate.Message> out = new ArrayList<>();
        for (int i = 0; i < n.size(); i++) {
            JsonNode m = n.get(i);
            String where = "messages[" + i + "]";
            if (!m.isObject() || !m.path("role").isTextual()) {
                throw new BadRequest("messages", "'" + where + "' needs a string 'role'");
            }
            JsonNode content = m.get("content");
            String text;
            if (content != null && content.isTextual()) {
                text = content.textValue();
            } else if (content != null && content.isArray()) {
                var sb = new StringBuilder();
                for (JsonNode part : content) {
                    if (!part.path("text").isTextual()) {
                        throw new BadRequest("messages", "'" + where + ".content' parts must be {type: text, text}");
                    }
                    sb.append(part.get("text").textValue());
                }
                text = sb.toString();
            } else {
                throw new BadRequest("messages", "'" + where + ".content' must be a string");
            }
            out.add(new ChatTemplate.Message(m.get("role").textValue(), text));
        }
        return out;
    }

    private ObjectNode chatChunk(String id, long created, ObjectNode delta, ArrayNode logprobs, String finish) {
        ObjectNode c = Http.JSON.createObjectNode();
        c.put("id", id);
        c.put("object", "chat.completion.chunk");
        c.put("created", created);
        c.put("model", server.options().modelName());
        ObjectNode ch = c.putArray("choices").addObject();
        ch.put("index", 0);
        ch.set("delta", delta);
        if (logprobs == null) {
            ch.putNull("logprobs");
        } else {
            ch.putObject("logprobs").set("content", logprobs);
        }
        if (finish == null) {
            ch.putNull("finish_reason");
        } else {
            ch.put("finish_reason", finish);
        }
        return c;
    }

    private static int[] prepend(int first, int[] rest) {
        int[] r = new int[rest.length + 1];
        r[0] = first;
        System.arraycopy(rest, 0, r, 1, rest.length);
        return r;
    }
}
