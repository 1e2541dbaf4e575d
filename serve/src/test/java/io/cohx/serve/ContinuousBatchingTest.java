package io.cohx.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cohx.models.tokenizer.Tokenizers;
import io.cohx.pjrt.PjrtClient;
import io.cohx.pjrt.testing.TestPlugins;
import org.junit.jupiter.api.Test;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Continuous batching through the real server: one request generating 256 tokens and eight
 * generating 4, sent together to a server with 4 KV-cache slots. Every short request completes
 * before the long one has produced half of its tokens (they take the slots the finished ones
 * free, while the long one keeps decoding), and every greedy output equals the output of the same
 * request sent alone. The long request streams with {@code logprobs: 0}, so each token is one
 * event and its count is exact.
 */
class ContinuousBatchingTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final int LONG = 256;
    static final int SHORT = 4;

    @Test
    void shortRequestsFinishWhileALongOneDecodesAndOutputsEqualRunningAlone() throws Exception {
        PjrtClient client = TestPlugins.cpuClient(1);
        ServeOptions o = ServeOptions.defaults().withLengths(32, 32 + LONG, 4).withServer(0, 64, List.of("generate"));
        String longBody = "{\"prompt\": \"Once upon a time there was\", \"max_tokens\": " + LONG + ", \"temperature\": 0}";
        List<String> shortBodies = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            shortBodies.add("{\"prompt\": \"Question " + i + ": what is " + (i * 7) + " plus " + i + "?\", \"max_tokens\": " + SHORT
                    + ", \"temperature\": 0}");
        }
        try (TestModel model = TestModel.random("llama", "debug",
                     "hidden_size=64,intermediate_size=128,num_hidden_layers=2,num_attention_heads=2,vocab_size=50257", 5, client);
             LmServer server = LmServer.start(model.model(), model.params(), Tokenizers.load("gpt2"), client, o, System.out)) {
            server.awaitReady();
            HttpClient http = HttpClient.newHttpClient();
            var longTokens = new AtomicInteger();
            var halfAt = new AtomicLong(Long.MAX_VALUE);
            var longText = new StringBuilder();
            var request = HttpRequest.newBuilder(server.uri().resolve("/v1/completions"))
                    .POST(HttpRequest.BodyPublishers.ofString(longBody.replace("}", ", \"stream\": true, \"logprobs\": 0}"))).build();
            CompletableFuture<Void> longDone = http.sendAsync(request, HttpResponse.BodyHandlers.ofLines()).thenAccept(res -> {
                try (Stream<String> lines = res.body()) {
                    lines.filter(l -> l.startsWith("data: {")).forEach(l -> {
                        try {
                            JsonNode ch = JSON.readTree(l.substring(6)).get("choices").get(0);
                            longText.append(ch.get("text").asText());
                            JsonNode lp = ch.get("logprobs");
                            if (lp != null && !lp.isNull() && longTokens.addAndGet(lp.get("tokens").size()) >= LONG / 2) {
                                halfAt.compareAndSet(Long.MAX_VALUE, System.nanoTime());
                            }
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                    });
                }
            });
            Thread.sleep(200); // the long request is admitted first
            List<CompletableFuture<HttpResponse<String>>> shorts = new ArrayList<>();
            long[] doneAt = new long[shortBodies.size()];
            for (int i = 0; i < shortBodies.size(); i++) {
                int k = i;
                shorts.add(http.sendAsync(HttpRequest.newBuilder(server.uri().resolve("/v1/completions"))
                        .POST(HttpRequest.BodyPublishers.ofString(shortBodies.get(i))).build(), HttpResponse.BodyHandlers.ofString())
                        .whenComplete((r, e) -> doneAt[k] = System.nanoTime()));
            }
            List<String> together = new ArrayList<>();
            for (var f : shorts) {
                HttpResponse<String> r = f.get();
                assertEquals(200, r.statusCode(), r.body());
                together.add(JSON.readTree(r.body()).get("choices").get(0).get("text").asText());
            }
            longDone.get();
            assertEquals(LONG, longTokens.get(), "the long request made all its tokens (no early eos on these weights)");
            for (int i = 0; i < doneAt.length; i++) {
                assertTrue(doneAt[i] < halfAt.get(), "short request " + i + " finished before the long one reached " + (LONG / 2)
                        + " tokens (" + (halfAt.get() - doneAt[i]) / 1e6 + " ms before)");
            }
            // One at a time: the same outputs.
            for (int i = 0; i < shortBodies.size(); i++) {
                var r = http.send(HttpRequest.newBuilder(server.uri().resolve("/v1/completions"))
                        .POST(HttpRequest.BodyPublishers.ofString(shortBodies.get(i))).build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(together.get(i), JSON.readTree(r.body()).get("choices").get(0).get("text").asText(), "short request " + i);
            }
            var alone = http.send(HttpRequest.newBuilder(server.uri().resolve("/v1/completions"))
                    .POST(HttpRequest.BodyPublishers.ofString(longBody)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(longText.toString(), JSON.readTree(alone.body()).get("choices").get(0).get("text").asText(), "the long request");
            String metrics = http.send(HttpRequest.newBuilder(server.uri().resolve("/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            assertTrue(metrics.contains("cohx_active_slots 0"), metrics);
        }
    }
}
