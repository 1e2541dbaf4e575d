package io.cohx.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import io.cohx.models.generate.Generator;
import io.cohx.models.generate.Sampling;
import io.cohx.models.generate.Scorer;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The OpenAI-style API of {@link LmServer}: {@code /v1/completions} (string or token prompts,
 * {@code echo}, {@code logprobs} — the top-1 alternative is given whatever number is asked for —,
 * {@code stop}, {@code seed}, streaming), {@code /v1/chat/completions} (messages joined into a CoH
 * prompt ending with the feedback phrase; the extension field {@code lm_prefix} replaces that
 * phrase), {@code /v1/models}, and the tokenizer endpoints ({@code /tokenizer_info},
 * {@code /tokenize}, {@code /detokenize}) that lm-evaluation-harness's {@code local-completions}
 * uses instead of downloading a tokenizer. Extension: {@code top_k}.
 */
final class OpenAiApi {
    private final LmServer server;
    private final AtomicLong ids = new AtomicLong();

    OpenAiApi(LmServer server) {
        this.server = server;
    }

    int route(HttpExchange ex, String method, String path) throws IOException {
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
                Http.json(ex, 200, out);
            }
            case "/tokenizer_info" -> {
                if (!get) return LmServer.notAllowed(ex, "GET");
                ObjectNode out = Http.JSON.createObjectNode();
                putPiece(out, "eos_token", server.tokenizer().eosId());
                putPiece(out, "bos_token", server.tokenizer().bosId());
                putPiece(out, "pad_token", server.tokenizer().padId());
                out.put("model_max_length", server.options().seqLength());
                Http.json(ex, 200, out);
            }
            case "/tokenize" -> {
                if (!post) return LmServer.notAllowed(ex, "POST");
                Fields f = Http.body(ex);
                int[] t = server.prompts().encodeWithSpecials(f.string("prompt"));
                if (f.bool("add_special_tokens", false) && server.prompts().bos() >= 0) {
                    t = prepend(server.prompts().bos(), t);
                }
                Http.json(ex, 200, Map.of("tokens", t, "count", t.length, "max_model_len", server.options().seqLength()));
            }
            case "/detokenize" -> {
                if (!post) return LmServer.notAllowed(ex, "POST");
                Fields f = Http.body(ex);
                Http.json(ex, 200, Map.of("prompt", server.prompts().decode(tokenList(f.get("tokens"), "tokens"))));
            }
            default -> {
                Http.json(ex, 404, Http.error("no endpoint " + path + "; see / (chat), /v1/completions, /v1/chat/completions, "
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

    private void completions(HttpExchange ex) throws IOException {
        Fields f = Http.body(ex);
        ServeOptions o = server.options();
        List<Prompt> prompts = prompts(f);
        int maxTokens = f.integer("max_tokens", 16, 0, o.seqLength());
        Sampling sampling = sampling(f);
        boolean stream = f.bool("stream", false);
        boolean echo = f.bool("echo", false);
        Integer logprobs = f.has("logprobs") ? f.integer("logprobs", 0, 0, 20) : null;
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
        List<Generator.Request> rows = new ArrayList<>();
        for (Prompt p : prompts) {
            rows.add(new Generator.Request(p.tokens(), maxTokens, sampling, stop, null));
        }
        if (stream) {
            var events = new Http.EventStream(ex);
            if (echo) {
                for (int i = 0; i < prompts.size(); i++) {
                    events.send(completionChunk(id, created, i, prompts.get(i).text(), null));
                }
            }
            List<Generator.Result> res = maxTokens == 0 ? null
                    : server.runGenerate(rows, (row, piece) -> events.send(completionChunk(id, created, row, piece, null)));
            for (int i = 0; i < prompts.size(); i++) {
                events.send(completionChunk(id, created, i, "", res == null ? "length" : res.get(i).finish().openAi()));
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
                Scorer.Scored s = echo && p.tokens().length > 1 ? echoed.get(echoAt++) : null;
                c.set("logprobs", logprobs(echo ? p : null, s, r));
            }
            c.put("finish_reason", r == null ? "length" : r.finish().openAi());
            promptTokens += p.tokens().length;
            completionTokens += r == null ? 0 : r.tokens().length;
        }
        usage(out, promptTokens, completionTokens);
        Http.json(ex, 200, out);
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
            if (!e.isIntegralNumber() || e.longValue() < 0 || e.longValue() >= vocab) {
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
        List<String> s = f.strings("stop");
        if (s.size() > 16) {
            throw new BadRequest("stop", "at most 16 stop strings, got " + s.size());
        }
        return s;
    }

    private ObjectNode logprobs(Prompt echoed, Scorer.Scored scored, Generator.Result r) {
        ObjectNode lp = Http.JSON.createObjectNode();
        ArrayNode tokens = lp.putArray("tokens");
        ArrayNode values = lp.putArray("token_logprobs");
        ArrayNode top = lp.putArray("top_logprobs");
        ArrayNode offsets = lp.putArray("text_offset");
        int offset = 0;
        if (echoed != null) {
            int[] t = echoed.tokens();
            for (int i = 0; i < t.length; i++) {
                String s = piece(t[i]);
                tokens.add(s);
                offsets.add(offset);
                offset += s.length();
                if (i == 0 || scored == null) {
                    values.addNull();
                    top.addNull();
                } else {
                    values.add(scored.tokenLogprobs()[i - 1]);
                    top.addObject().put(piece(scored.argmax()[i - 1]), scored.argmaxLogprobs()[i - 1]);
                }
            }
        }
        if (r != null) {
            for (int i = 0; i < r.tokens().length; i++) {
                String s = piece(r.tokens()[i]);
                tokens.add(s);
                offsets.add(offset);
                offset += s.length();
                values.add(r.logprobs()[i]);
                ObjectNode alt = top.addObject();
                alt.put(piece(r.best()[i]), r.bestLogprobs()[i]);
            }
        }
        return lp;
    }

    private String piece(int id) {
        return server.prompts().decode(new int[] {id});
    }

    private ObjectNode completionChunk(String id, long created, int index, String text, String finish) {
        ObjectNode c = Http.JSON.createObjectNode();
        c.put("id", id);
        c.put("object", "text_completion");
        c.put("created", created);
        c.put("model", server.options().modelName());
        ObjectNode ch = c.putArray("choices").addObject();
        ch.put("index", index);
        ch.put("text", text);
        ch.putNull("logprobs");
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

    private void chatCompletions(HttpExchange ex) throws IOException {
        Fields f = Http.body(ex);
        ServeOptions o = server.options();
        List<Prompts.Message> messages = messages(f.get("messages"));
        String lmPrefix = f.string("lm_prefix", o.chatLmPrefix());
        String text = server.prompts().chat(messages, lmPrefix);
        int[] tokens = server.prompts().encode(text);
        if (server.prompts().bos() >= 0) {
            tokens = prepend(server.prompts().bos(), tokens);
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
        Sampling sampling = sampling(f);
        List<String> stop = new ArrayList<>(stops(f));
        // The model's next "User:" turn ends its answer, as in the original chat.
        if (!o.chatUserPrefix().isBlank()) {
            stop.add(o.chatUserPrefix().strip());
        }
        var row = new Generator.Request(tokens, maxTokens, sampling, stop, null);
        String id = "chatcmpl-" + ids.incrementAndGet();
        long created = System.currentTimeMillis() / 1000;
        if (f.bool("stream", false)) {
            var events = new Http.EventStream(ex);
            ObjectNode role = Http.JSON.createObjectNode();
            role.put("role", "assistant");
            role.put("content", "");
            events.send(chatChunk(id, created, role, null));
            boolean[] started = {false};
            List<Generator.Result> res = server.runGenerate(List.of(row), (r, piece) -> {
                String shown = started[0] ? piece : piece.stripLeading();
                if (shown.isEmpty()) {
                    return;
                }
                started[0] = true;
                ObjectNode d = Http.JSON.createObjectNode();
                d.put("content", shown);
                events.send(chatChunk(id, created, d, null));
            });
            events.send(chatChunk(id, created, Http.JSON.createObjectNode(), res.getFirst().finish().openAi()));
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
        c.put("finish_reason", r.finish().openAi());
        usage(out, tokens.length, r.tokens().length);
        Http.json(ex, 200, out);
    }

    private static List<Prompts.Message> messages(JsonNode n) {
        if (n == null || !n.isArray() || n.isEmpty()) {
            throw new BadRequest("messages", "'messages' is required: a non-empty list of {role, content}");
        }
        List<Prompts.Message> out = new ArrayList<>();
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
            out.add(new Prompts.Message(m.get("role").textValue(), text));
        }
        return out;
    }

    private ObjectNode chatChunk(String id, long created, ObjectNode delta, String finish) {
        ObjectNode c = Http.JSON.createObjectNode();
        c.put("id", id);
        c.put("object", "chat.completion.chunk");
        c.put("created", created);
        c.put("model", server.options().modelName());
        ObjectNode ch = c.putArray("choices").addObject();
        ch.put("index", 0);
        ch.set("delta", delta);
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
