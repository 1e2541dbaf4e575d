package io.cohx.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cohx.engine.DeviceArray;
import io.cohx.engine.Jit;
import io.cohx.engine.NdArray;
import io.cohx.engine.Tree;
import io.cohx.models.CausalLm;
import io.cohx.models.ForwardOptions;
import io.cohx.models.tokenizer.Tokenizer;
import io.cohx.models.tokenizer.Tokenizers;
import io.cohx.pjrt.PjrtClient;
import io.cohx.pjrt.testing.TestPlugins;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A real {@link LmServer} on 127.0.0.1 (debug LLaMA with random weights, GPT-2 tokenizer, tiny
 * lengths) driven through {@link HttpClient}: the original endpoints against the model computed
 * directly, the OpenAI endpoints with and without server-sent events, concurrent requests, bad
 * requests, a full queue, and a client that leaves mid-stream.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LmServerTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final int INPUT = 16;
    static final int SEQ = 64;
    static final int MAX_QUEUE = 4;
    static PjrtClient client;
    static TestModel model;
    static Tokenizer tokenizer;
    static LmServer server;
    static HttpClient http;

    @BeforeAll
    static void start() {
        client = TestPlugins.cpuClient(1);
        model = TestModel.random("llama", "debug", "vocab_size=50257", 42, client);
        tokenizer = Tokenizers.load("gpt2");
        ServeOptions o = ServeOptions.defaults().withLengths(INPUT, SEQ, 2).withServer(0, MAX_QUEUE, List.of("all"));
        server = LmServer.start(model.model(), model.params(), tokenizer, client, o, System.out);
        http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    }

    @AfterAll
    static void stop() {
        server.close();
        model.close();
    }

    record Reply(int status, JsonNode body, HttpResponse<String> raw) {}

    static Reply post(String path, String json) throws Exception {
        var req = HttpRequest.newBuilder(server.uri().resolve(path)).POST(HttpRequest.BodyPublishers.ofString(json))
                .header("Content-Type", "application/json").build();
        var res = http.send(req, HttpResponse.BodyHandlers.ofString());
        JsonNode body = res.headers().firstValue("Content-Type").orElse("").startsWith("application/json") ? JSON.readTree(res.body()) : null;
        return new Reply(res.statusCode(), body, res);
    }

    static Reply get(String path) throws Exception {
        var res = http.send(HttpRequest.newBuilder(server.uri().resolve(path)).GET().build(), HttpResponse.BodyHandlers.ofString());
        JsonNode body = res.headers().firstValue("Content-Type").orElse("").startsWith("application/json") ? JSON.readTree(res.body()) : null;
        return new Reply(res.statusCode(), body, res);
    }

    /** The {@code data:} payloads of an SSE response, read line by line as they arrive. */
    static List<String> events(String path, String json) throws Exception {
        var req = HttpRequest.newBuilder(server.uri().resolve(path)).POST(HttpRequest.BodyPublishers.ofString(json)).build();
        HttpResponse<Stream<String>> res = http.send(req, HttpResponse.BodyHandlers.ofLines());
        assertEquals(200, res.statusCode());
        assertTrue(res.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
        try (Stream<String> lines = res.body()) {
            return lines.filter(l -> l.startsWith("data: ")).map(l -> l.substring(6)).toList();
        }
    }

    @Test
    @Order(1)
    void aFullQueueAnswers503WithRetryAfterWhileTheRestAreServed() throws Exception {
        // The device thread compiles first (pre_compile all), so requests sent now wait in the queue.
        List<CompletableFuture<HttpResponse<String>>> sent = new ArrayList<>();
        for (int i = 0; i < MAX_QUEUE + 3; i++) {
            String body = "{\"prompt\": \"Hello number " + i + "\", \"max_tokens\": 4, \"temperature\": 0}";
            sent.add(http.sendAsync(HttpRequest.newBuilder(server.uri().resolve("/v1/completions"))
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString()));
            Thread.sleep(20); // keep the arrival order, so the first MAX_QUEUE are the ones queued
        }
        int ok = 0;
        int busy = 0;
        for (var f : sent) {
            HttpResponse<String> r = f.get();
            if (r.statusCode() == 503) {
                busy++;
                assertEquals("1", r.headers().firstValue("Retry-After").orElse(null));
                assertEquals("overloaded", JSON.readTree(r.body()).get("error").get("type").asText());
            } else {
                assertEquals(200, r.statusCode(), r.body());
                ok++;
            }
        }
        assertEquals(MAX_QUEUE, ok, "the queued requests are served after start-up");
        assertEquals(3, busy, "the rest are turned away");
        server.awaitReady();
        assertEquals("ready", get("/ready").body().get("status").asText());
    }

    /** Log-probs of every position of {@code ids} by a full forward pass (right-padded to SEQ). */
    static float[][] directLogprobs(int[] ids) {
        CausalLm lm = model.model();
        try (Jit jit = Jit.builder("direct", t -> Tree.of("lp", lm.logits(t.subtree("params"), t.get("ids"), ForwardOptions.EVAL)
                .logSoftmax(2))).build(client)) {
            int[] padded = java.util.Arrays.copyOf(ids, SEQ);
            Tree<DeviceArray> out = jit.call(Tree.<Object>empty().nest("params", model.params()).with("ids", NdArray.of(padded, 1, SEQ)));
            float[] flat = out.get("lp").toHost().toFloatArray();
            out.values().forEach(DeviceArray::close);
            int v = lm.config().vocabSize();
            float[][] r = new float[ids.length][];
            for (int i = 0; i < ids.length; i++) {
                r[i] = java.util.Arrays.copyOfRange(flat, i * v, (i + 1) * v);
            }
            return r;
        }
    }

    @Test
    @Order(2)
    void loglikelihoodEqualsTheSumOfTheModelsTokenLogprobs() throws Exception {
        String[] prefixes = {"The cat sat on", "Hello"};
        String[] texts = {" the mat.", " world, how are you today?"};
        Reply r = post("/loglikelihood", JSON.writeValueAsString(java.util.Map.of("prefix_text", prefixes, "text", texts)));
        assertEquals(200, r.status(), r.raw().body());
        for (int i = 0; i < 2; i++) {
            int[] p = tokenizer.encode(prefixes[i]);
            int[] t = tokenizer.encode(texts[i]);
            int[] ids = new int[1 + p.length + t.length];
            ids[0] = tokenizer.bosId();
            System.arraycopy(p, 0, ids, 1, p.length);
            System.arraycopy(t, 0, ids, 1 + p.length, t.length);
            float[][] lp = directLogprobs(ids);
            double sum = 0;
            boolean greedy = true;
            for (int j = 0; j < t.length; j++) {
                int pos = p.length + j; // the position whose next token is text token j
                float[] row = lp[pos];
                sum += row[t[j]];
                int best = 0;
                for (int k = 1; k < row.length; k++) {
                    best = row[k] > row[best] ? k : best;
                }
                greedy &= best == t[j];
            }
            assertEquals(sum, r.body().get("log_likelihood").get(i).asDouble(), 1e-3, "pair " + i);
            assertEquals(greedy, r.body().get("is_greedy").get(i).asBoolean(), "pair " + i);
        }
        // A short text scored rolling is the same as scored after an empty prefix.
        Reply roll = post("/loglikelihood-rolling", "{\"text\": [\"Hello world, how are you today?\"]}");
        Reply cont = post("/loglikelihood", "{\"prefix_text\": [\"\"], \"text\": [\"Hello world, how are you today?\"]}");
        assertEquals(cont.body().get("log_likelihood").get(0).asDouble(), roll.body().get("log_likelihood").get(0).asDouble(), 1e-4);
        // A text longer than seq_length is scored in windows, each token once: more tokens, lower log-likelihood.
        Reply longer = post("/loglikelihood-rolling", "{\"text\": [\"" + "one two three four five six seven eight ".repeat(12) + "\"]}");
        assertEquals(200, longer.status());
        assertTrue(longer.body().get("log_likelihood").get(0).asDouble() < roll.body().get("log_likelihood").get(0).asDouble());
    }

    @Test
    @Order(3)
    void echoLogprobsOfV1CompletionsMatchLoglikelihood() throws Exception {
        int[] ids = tokenizer.encode("The cat sat on the mat.");
        Reply r = post("/v1/completions", "{\"prompt\": " + JSON.writeValueAsString(ids) + ", \"max_tokens\": 0, \"echo\": true, \"logprobs\": 1}");
        assertEquals(200, r.status(), r.raw().body());
        JsonNode lp = r.body().get("choices").get(0).get("logprobs");
        assertEquals(ids.length, lp.get("tokens").size());
        assertTrue(lp.get("token_logprobs").get(0).isNull());
        float[][] direct = directLogprobs(ids);
        for (int i = 1; i < ids.length; i++) {
            assertEquals(direct[i - 1][ids[i]], lp.get("token_logprobs").get(i).asDouble(), 1e-3, "token " + i);
            double top = lp.get("top_logprobs").get(i).elements().next().asDouble();
            assertTrue(top >= lp.get("token_logprobs").get(i).asDouble(), "the top alternative is at least as likely");
        }
        assertEquals("The cat sat on the mat.", r.body().get("choices").get(0).get("text").asText());
    }

    @Test
    @Order(4)
    void streamingGivesTheSameTextAsOneResponse() throws Exception {
        String body = "{\"prompt\": \"Once upon a time\", \"max_tokens\": 12, \"temperature\": 0}";
        String whole = post("/v1/completions", body).body().get("choices").get(0).get("text").asText();
        List<String> ev = events("/v1/completions", body.replace("}", ", \"stream\": true}"));
        assertEquals("[DONE]", ev.getLast());
        var sb = new StringBuilder();
        for (String e : ev.subList(0, ev.size() - 1)) {
            sb.append(JSON.readTree(e).get("choices").get(0).get("text").asText());
        }
        assertTrue(ev.size() > 3, "streamed in several events: " + ev);
        assertEquals(whole, sb.toString());
        assertEquals("length", JSON.readTree(ev.get(ev.size() - 2)).get("choices").get(0).get("finish_reason").asText());

        String chat = "{\"messages\": [{\"role\": \"user\", \"content\": \"How do I boil an egg?\"}], \"max_tokens\": 8, \"temperature\": 0";
        String answer = post("/v1/chat/completions", chat + "}").body().get("choices").get(0).get("message").get("content").asText();
        List<String> cev = events("/v1/chat/completions", chat + ", \"stream\": true}");
        var got = new StringBuilder();
        for (String e : cev) {
            if (!e.equals("[DONE]")) {
                JsonNode d = JSON.readTree(e).get("choices").get(0).get("delta");
                got.append(d.path("content").asText(""));
            }
        }
        assertEquals(answer, got.toString().strip());
        assertEquals("assistant", JSON.readTree(cev.getFirst()).get("choices").get(0).get("delta").get("role").asText());
    }

    @Test
    @Order(5)
    void concurrentRequestsEachGetTheirOwnOutput() throws Exception {
        String[] prompts = {"Alpha beta", "The quick brown fox", "Hello", "Numbers: one two"};
        String[] alone = new String[prompts.length];
        for (int i = 0; i < prompts.length; i++) {
            alone[i] = post("/generate", "{\"text\": [\"" + prompts[i] + "\"], \"temperature\": 0}").body().get("output_text").get(0).asText();
        }
        List<CompletableFuture<HttpResponse<String>>> sent = new ArrayList<>();
        for (String p : prompts) {
            sent.add(http.sendAsync(HttpRequest.newBuilder(server.uri().resolve("/generate"))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"text\": [\"" + p + "\"], \"temperature\": 0}")).build(),
                    HttpResponse.BodyHandlers.ofString()));
        }
        for (int i = 0; i < prompts.length; i++) {
            JsonNode r = JSON.readTree(sent.get(i).get().body());
            assertEquals(alone[i], r.get("output_text").get(0).asText(), "request " + i + " got its own continuation");
        }
        // /greedy-until stops before the stop string; /chat returns the conversation with the CoH prefix.
        String until = post("/greedy-until", "{\"prefix_text\": [\"Alpha beta\"], \"until\": [[\"" + alone[0].substring(3, 6) + "\"]]}")
                .body().get("output_text").get(0).asText();
        assertEquals(alone[0].substring(0, alone[0].indexOf(alone[0].substring(3, 6))), until);
        JsonNode chat = post("/chat", "{\"prompt\": \"Hi there\", \"context\": \"\", \"temperature\": 0}").body();
        assertTrue(chat.get("context").asText().startsWith("User: Hi there A helpful answer:"), chat.toString());
    }

    @Test
    @Order(6)
    void badRequestsAre400NamingTheField() throws Exception {
        Reply malformed = post("/v1/completions", "{\"prompt\": ");
        assertEquals(400, malformed.status());
        assertTrue(malformed.body().get("error").get("message").asText().contains("not valid JSON"));
        assertEquals("prompt", post("/v1/completions", "{\"max_tokens\": 3}").body().get("error").get("param").asText());
        Reply neg = post("/v1/completions", "{\"prompt\": \"x\", \"temperature\": -0.5}");
        assertEquals(400, neg.status());
        assertEquals("temperature", neg.body().get("error").get("param").asText());
        Reply longPrompt = post("/v1/completions", "{\"prompt\": \"" + "word ".repeat(40) + "\", \"max_tokens\": 2}");
        assertEquals(400, longPrompt.status());
        assertEquals("prompt", longPrompt.body().get("error").get("param").asText());
        assertEquals("max_tokens", post("/v1/completions", "{\"prompt\": \"x\", \"max_tokens\": 1000}").body().get("error").get("param").asText());
        assertEquals("messages", post("/v1/chat/completions", "{\"messages\": []}").body().get("error").get("param").asText());
        assertEquals("text", post("/loglikelihood", "{\"prefix_text\": [\"a\"], \"text\": [\"b\", \"c\"]}").body().get("error").get("param").asText());
        assertEquals("prompt", post("/v1/completions", "{\"prompt\": [1, -4]}").body().get("error").get("param").asText());
        assertEquals(404, get("/nope").status());
        assertEquals(405, get("/generate").status());
        // The original endpoints take lists: a lone string is refused, not run as zero rows.
        Reply lone = post("/generate", "{\"text\": \"hi\"}");
        assertEquals(400, lone.status(), lone.raw().body());
        assertEquals("text", lone.body().get("error").get("param").asText());
        assertTrue(lone.body().get("error").get("message").asText().contains("must be a list of strings"), lone.raw().body());
        // 2^63 is out of range, said with the number sent (not a wrapped negative one).
        Reply huge = post("/v1/completions", "{\"prompt\": \"x\", \"max_tokens\": 9223372036854775808}");
        assertEquals(400, huge.status());
        assertEquals("max_tokens", huge.body().get("error").get("param").asText());
        assertEquals("'max_tokens' must be between 0 and " + SEQ + ", got 9223372036854775808", huge.body().get("error").get("message").asText());
        assertEquals("seed", post("/v1/completions", "{\"prompt\": \"x\", \"seed\": 18446744073709551616}").body().get("error")
                .get("param").asText());
        assertEquals("max_tokens", post("/v1/completions", "{\"prompt\": \"x\", \"max_tokens\": 2.5}").body().get("error")
                .get("param").asText());
    }

    @Test
    @Order(9)
    void aBodyOverTheLimitIs413EvenWhileTheClientIsStillSending() throws Exception {
        byte[] big = new byte[20 << 20];
        java.util.Arrays.fill(big, (byte) ' ');
        var sized = http.send(HttpRequest.newBuilder(server.uri().resolve("/v1/completions")).POST(HttpRequest.BodyPublishers.ofByteArray(big))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(413, sized.statusCode(), "20 MB with a Content-Length: answered, not reset");
        assertTrue(JSON.readTree(sized.body()).get("error").get("message").asText().contains("16 MiB"), sized.body());
        // Chunked (no length known up front): refused once 16 MiB have arrived.
        var chunked = http.send(HttpRequest.newBuilder(server.uri().resolve("/v1/completions"))
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(big))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(413, chunked.statusCode());
        assertEquals(200, post("/v1/completions", "{\"prompt\": \"x\", \"max_tokens\": 1}").status(), "and the server goes on");
    }

    @Test
    @Order(10)
    void oneConnectionCarriesSeveralRequests() throws Exception {
        String body = "{\"prompt\": \"Hi\", \"max_tokens\": 2, \"temperature\": 0}";
        String req = "POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: "
                + body.length() + "\r\n\r\n" + body;
        try (Socket s = new Socket(server.uri().getHost(), server.port())) {
            var in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
            for (int i = 0; i < 3; i++) {
                s.getOutputStream().write(req.getBytes(StandardCharsets.UTF_8));
                s.getOutputStream().flush();
                assertEquals("HTTP/1.1 200 OK", in.readLine(), "request " + i + " on the same connection");
                int length = -1;
                for (String h; !(h = in.readLine()).isEmpty(); ) {
                    assertFalse(h.equalsIgnoreCase("Connection: close"), h);
                    if (h.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
                        length = Integer.parseInt(h.substring(15).strip());
                    }
                }
                char[] payload = new char[length];
                for (int at = 0; at < length; ) {
                    at += in.read(payload, at, length - at);
                }
                assertTrue(new String(payload).contains("\"text_completion\""));
            }
        }
    }

    @Test
    @Order(11)
    void logprobsGiveTheMostLikelyAlternativesPlainAndStreamed() throws Exception {
        String body = "{\"prompt\": \"The weather today\", \"max_tokens\": 6, \"temperature\": 0, \"logprobs\": 3}";
        Reply plain = post("/v1/completions", body);
        assertEquals(200, plain.status(), plain.raw().body());
        JsonNode lp = plain.body().get("choices").get(0).get("logprobs");
        int n = plain.body().get("usage").get("completion_tokens").asInt();
        assertEquals(n, lp.get("tokens").size());
        for (int i = 0; i < n; i++) {
            JsonNode top = lp.get("top_logprobs").get(i);
            double chosen = lp.get("token_logprobs").get(i).asDouble();
            assertTrue(top.size() >= 2 && top.size() <= 4, top.toString());
            double prev = 0;
            var it = top.fields();
            for (int j = 0; it.hasNext(); j++) {
                double v = it.next().getValue().asDouble();
                assertTrue(v <= prev + 1e-6, "most likely first: " + top);
                prev = v;
                if (j == 0) {
                    assertEquals(chosen, v, 1e-6, "greedy picks the most likely");
                }
            }
            assertEquals(chosen, top.get(lp.get("tokens").get(i).asText()).asDouble(), 1e-6, "the chosen token is among them");
        }
        // Streamed: one event per token, carrying the same log-probs.
        List<String> ev = events("/v1/completions", body.replace("}", ", \"stream\": true}"));
        List<String> tokens = new ArrayList<>();
        List<Double> values = new ArrayList<>();
        for (String e : ev.subList(0, ev.size() - 1)) {
            JsonNode l = JSON.readTree(e).get("choices").get(0).get("logprobs");
            if (l != null && !l.isNull()) {
                l.get("tokens").forEach(t -> tokens.add(t.asText()));
                l.get("token_logprobs").forEach(t -> values.add(t.asDouble()));
                assertTrue(l.get("top_logprobs").size() == l.get("tokens").size());
            }
        }
        assertEquals(JSON.convertValue(lp.get("tokens"), List.class), tokens);
        for (int i = 0; i < n; i++) {
            assertEquals(lp.get("token_logprobs").get(i).asDouble(), values.get(i), 1e-6);
        }
        // Chat: logprobs + top_logprobs in the chat shape, plain and streamed.
        String chat = "{\"messages\": [{\"role\": \"user\", \"content\": \"Name a fruit\"}], \"max_tokens\": 5, \"temperature\": 0,"
                + " \"logprobs\": true, \"top_logprobs\": 2";
        JsonNode c = post("/v1/chat/completions", chat + "}").body().get("choices").get(0);
        JsonNode content = c.get("logprobs").get("content");
        assertTrue(content.size() >= 1, c.toString());
        for (JsonNode t : content) {
            assertEquals(2, t.get("top_logprobs").size(), t.toString());
            assertEquals(t.get("logprob").asDouble(), t.get("top_logprobs").get(0).get("logprob").asDouble(), 1e-6);
            assertTrue(t.get("bytes").isArray());
        }
        List<String> streamed = new ArrayList<>();
        for (String e : events("/v1/chat/completions", chat + ", \"stream\": true}")) {
            if (!e.equals("[DONE]")) {
                JsonNode l = JSON.readTree(e).get("choices").get(0).get("logprobs");
                if (l != null && !l.isNull()) {
                    l.get("content").forEach(t -> streamed.add(t.get("token").asText()));
                }
            }
        }
        List<String> plainTokens = new ArrayList<>();
        content.forEach(t -> plainTokens.add(t.get("token").asText()));
        assertEquals(plainTokens, streamed);
        assertEquals("top_logprobs", post("/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}],"
                + " \"top_logprobs\": 2}").body().get("error").get("param").asText());
    }

    @Test
    @Order(7)
    void aClientThatLeavesMidStreamIsCancelled() throws Exception {
        String body = "{\"prompt\": \"Once\", \"max_tokens\": 60, \"temperature\": 1, \"seed\": 3, \"stream\": true}";
        try (Socket s = new Socket(server.uri().getHost(), server.port())) {
            OutputStream out = s.getOutputStream();
            out.write(("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: "
                    + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8));
            out.flush();
            var in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
            String line;
            while ((line = in.readLine()) != null && !line.contains("\"text\"")) {
                // headers and chunk sizes
            }
            assertTrue(line != null && line.startsWith("data: "), "got a first event");
        } // closed after the first event
        long deadline = System.nanoTime() + 20_000_000_000L;
        String metrics = "";
        while (System.nanoTime() < deadline) {
            metrics = get("/metrics").raw().body();
            if (metrics.contains("cohx_cancelled_rows_total 1")) {
                break;
            }
            Thread.sleep(50);
        }
        assertTrue(metrics.contains("cohx_cancelled_rows_total 1"), metrics);
        // The slot is free: the next request is served.
        assertEquals(200, post("/v1/completions", "{\"prompt\": \"x\", \"max_tokens\": 2}").status());
    }

    @Test
    @Order(8)
    void healthMetricsTokenizerAndTheChatPage() throws Exception {
        assertEquals("ok", get("/health").body().get("status").asText());
        String m = get("/metrics").raw().body();
        assertTrue(m.contains("cohx_requests_total{endpoint=\"/v1/completions\",status=\"200\"}"), m);
        assertTrue(m.contains("cohx_tokens_per_second "), m);
        assertTrue(m.contains("cohx_queue_depth 0"), m);
        assertEquals("<|endoftext|>", get("/tokenizer_info").body().get("eos_token").asText());
        JsonNode t = post("/tokenize", "{\"prompt\": \"Hello<|endoftext|>\"}").body();
        assertEquals(List.of(15496, 50256), JSON.convertValue(t.get("tokens"), List.class));
        assertEquals("Hello world", post("/detokenize", "{\"tokens\": [15496, 995]}").body().get("prompt").asText());
        Reply page = get("/");
        assertEquals(200, page.status());
        String html = page.raw().body();
        assertTrue(html.contains("value=\"A helpful answer:\""), "the CoH prefix is shown and editable");
        assertFalse(html.matches("(?s).*(src|href)=\"(https?:)?//.*"), "no external assets");
        assertNull(page.body());
    }

    static URI base() {
        return server.uri();
    }
}
