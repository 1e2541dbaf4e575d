package io.cohx.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cohx.serve.LmServer;
import io.cohx.serve.ServeOptions;
import io.cohx.coh.train.ServedModel;
import io.cohx.engine.DType;
import io.cohx.engine.DeviceArray;
import io.cohx.models.generate.Buckets;
import io.cohx.models.generate.Generator;
import io.cohx.models.generate.Sampling;
import io.cohx.models.tokenizer.Tokenizer;
import io.cohx.models.tokenizer.Tokenizers;
import io.cohx.pjrt.PjrtClient;
import io.cohx.pjrt.PjrtPlugin;
import io.cohx.pjrt.plugins.Plugins;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The LM server under load, and raw decode speed. First decode throughput of the KV-cache
 * generator at batch 1 and batch 16 (64 new tokens per row after a 16-token prompt); then a real
 * {@link LmServer} on 127.0.0.1 (batch 16) gets {@code requests} {@code /v1/completions} calls
 * (32 sampled tokens each) from {@code clients} concurrent clients, and the errors, throughput
 * and p50/p99 latency are printed. Debug-size LLaMA with random weights and the GPT-2 tokenizer.
 * One JSON line per measurement. Usage: {@code bench/run ServeBench [platform] [requests] [clients]}.
 */
public final class ServeBench {
    private static final ObjectMapper JSON = new ObjectMapper();

    public static void main(String[] args) throws Exception {
        String platform = args.length > 0 ? args[0] : "cpu";
        int requests = args.length > 1 ? Integer.parseInt(args[1]) : 200;
        int clients = args.length > 2 ? Integer.parseInt(args[2]) : 16;
        PjrtPlugin plugin = PjrtPlugin.load(Plugins.resolve(platform, null, m -> System.err.println("bench: " + m)).library());
        try (PjrtClient client = platform.equals("cpu") ? PjrtClient.create(plugin, Map.of("cpu_device_count", 1L)) : PjrtClient.create(plugin)) {
            ServedModel model = ServedModel.load(null, "llama", "debug", "vocab_size=50257", 1, client);
            Tokenizer tokenizer = Tokenizers.load("gpt2");
            decode(model, tokenizer, client, platform, 1);
            decode(model, tokenizer, client, platform, 16);
            load(model, tokenizer, client, platform, requests, clients);
            model.params().values().forEach(v -> ((DeviceArray) v).close());
        }
    }

    private static void decode(ServedModel m, Tokenizer tok, PjrtClient client, String platform, int batch) {
        int newTokens = 64;
        try (var gen = new Generator(m.model(), m.params(), tok, client, batch, 16 + newTokens, new Buckets(List.of(16)), DType.F32)) {
            List<Generator.Request> rows = new ArrayList<>();
            for (int b = 0; b < batch; b++) {
                int[] prompt = new int[16];
                for (int i = 0; i < prompt.length; i++) {
                    prompt[i] = 100 + 7 * b + i;
                }
                // No tokenizer eos can end a row early: every row makes exactly newTokens tokens.
                rows.add(new Generator.Request(prompt, newTokens, new Sampling(1.0, 0, 1, b)));
            }
            gen.generate(rows); // compile
            long best = Long.MAX_VALUE;
            long tokens = 0;
            for (int rep = 0; rep < 3; rep++) {
                long t0 = System.nanoTime();
                var out = gen.generate(rows);
                best = Math.min(best, System.nanoTime() - t0);
                tokens = out.stream().mapToLong(r -> r.tokens().length).sum();
            }
            System.out.printf(Locale.ROOT, "{\"bench\":\"decode\",\"platform\":\"%s\",\"model\":\"llama-debug\",\"batch\":%d,\"new_tokens_per_row\":%d,"
                    + "\"tokens\":%d,\"seconds\":%.4f,\"tokens_per_s\":%.1f,\"ms_per_step\":%.3f}%n", platform, batch, newTokens, tokens,
                    best / 1e9, tokens / (best / 1e9), best / 1e6 / (newTokens + 1));
        }
    }

    private static void load(ServedModel m, Tokenizer tok, PjrtClient client, String platform, int requests, int clients) throws Exception {
        ServeOptions o = ServeOptions.defaults().withLengths(64, 128, 16).withServer(0, 256, List.of("generate"));
        try (LmServer server = LmServer.start(m.model(), m.params(), tok, client, o, System.err)) {
            server.awaitReady();
            HttpClient http = HttpClient.newHttpClient();
            var next = new AtomicInteger();
            var errors = new AtomicInteger();
            var generated = new AtomicLong();
            List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
            long t0 = System.nanoTime();
            try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
                for (int c = 0; c < clients; c++) {
                    pool.submit(() -> {
                        for (int i; (i = next.getAndIncrement()) < requests; ) {
                            String body = "{\"prompt\": \"Request " + i + ": tell me about topic number " + i
                                    + "\", \"max_tokens\": 32, \"temperature\": 0.8, \"seed\": " + i + "}";
                            long s = System.nanoTime();
                            try {
                                var r = http.send(HttpRequest.newBuilder(server.uri().resolve("/v1/completions"))
                                        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
                                latencies.add(System.nanoTime() - s);
                                if (r.statusCode() != 200) {
                                    errors.incrementAndGet();
                                    System.err.println("bench: HTTP " + r.statusCode() + " " + r.body());
                                    continue;
                                }
                                JsonNode n = JSON.readTree(r.body());
                                generated.addAndGet(n.get("usage").get("completion_tokens").asLong());
                            } catch (Exception e) {
                                errors.incrementAndGet();
                                System.err.println("bench: " + e);
                            }
                        }
                        return null;
                    });
                }
            }
            double secs = (System.nanoTime() - t0) / 1e9;
            List<Long> sorted = new ArrayList<>(latencies);
            Collections.sort(sorted);
            System.out.printf(Locale.ROOT, "{\"bench\":\"serve_load\",\"platform\":\"%s\",\"model\":\"llama-debug\",\"batch_size\":16,"
                    + "\"requests\":%d,\"clients\":%d,\"errors\":%d,\"seconds\":%.2f,\"requests_per_s\":%.2f,\"generated_tokens_per_s\":%.1f,"
                    + "\"p50_ms\":%.1f,\"p99_ms\":%.1f}%n", platform, requests, clients, errors.get(), secs, requests / secs,
                    generated.get() / secs, pct(sorted, 0.50), pct(sorted, 0.99));
        }
    }

    private static double pct(List<Long> sorted, double q) {
        if (sorted.isEmpty()) {
            return Double.NaN;
        }
        int i = (int) Math.min(sorted.size() - 1, Math.ceil(q * sorted.size()) - 1);
        return sorted.get(Math.max(0, i)) / 1e6;
    }
}
