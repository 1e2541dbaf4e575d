package io.cohx.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cohx.coh.train.ServedModel;
import io.cohx.engine.CompileCache;
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
import io.cohx.serve.LmServer;
import io.cohx.serve.ServeOptions;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The LM server under load, static against continuous batching in one run, and raw decode speed.
 * First decode throughput of the static KV-cache generator at batch 1 and 16; then, for each
 * scheduler, a real {@link LmServer} on 127.0.0.1 (16 rows / slots) gets the same {@code requests}
 * streamed {@code /v1/completions} calls from {@code clients} concurrent clients, in two workloads:
 * mixed prompt lengths (8 to 200 tokens) and output lengths (4 to 128 tokens), and the earlier
 * uniform one (short prompts, 32 tokens each). Every request streams ({@code logprobs: 0}, so each
 * token is its own event and can be timed); per request the client takes the whole-request
 * latency, the time to the first token (TTFT), the time per output token after the first (TPOT:
 * from the first token to the last, over the tokens after the first) and the whole-request latency
 * per generated token. Printed: errors, p50/p99 of each, requests/s and generated tokens/s, then the
 * two schedulers side by side. Debug-size LLaMA with random weights and the GPT-2 tokenizer;
 * programs are compiled before the clock starts. One JSON line per measurement.
 * Usage: {@code bench/run ServeBench [platform] [requests] [clients] [continuous]}; with {@code continuous} only
 * that scheduler runs (a quicker look while tuning it).
 */
public final class ServeBench {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int ROWS = 16;

    /** One request as the client saw it: nanoseconds to the first token, to the last, to the end of the stream; tokens received. */
    record Timing(long first, long last, long done, int tokens) {
        /** Time per output token after the first; NaN for a one-token answer. */
        double tpot() {
            return tokens > 1 ? (double) (last - first) / (tokens - 1) : Double.NaN;
        }
    }

    /** p50 and p99 of one measure, in milliseconds. */
    record Pct(double p50, double p99) {
        static Pct of(List<Double> nanos) {
            List<Double> sorted = nanos.stream().filter(d -> !Double.isNaN(d)).sorted().toList();
            return new Pct(pct(sorted, 0.50), pct(sorted, 0.99));
        }

        double ratio() {
            return p99 / p50;
        }
    }

    /** One load-test result: whole-request latency, per generated token, TTFT and TPOT. */
    record Load(String scheduler, int requests, int errors, double seconds, long tokens, Pct whole, Pct perToken, Pct ttft, Pct tpot) {
        double requestsPerSecond() {
            return requests / seconds;
        }

        double tokensPerSecond() {
            return tokens / seconds;
        }
    }

    public static void main(String[] args) throws Exception {
        String platform = args.length > 0 ? args[0] : "cpu";
        int requests = args.length > 1 ? Integer.parseInt(args[1]) : 96;
        int clients = args.length > 2 ? Integer.parseInt(args[2]) : 16;
        boolean both = args.length <= 3 || !args[3].equals("continuous");
        // As cohx serve does: compiled programs come from the compile cache (the servers below share them).
        CompileCache.install(CompileCache.at(CompileCache.defaultDir(), CompileCache.DEFAULT_MAX_BYTES, m -> System.err.println("bench: " + m)));
        PjrtPlugin plugin = PjrtPlugin.load(Plugins.resolve(platform, null, m -> System.err.println("bench: " + m)).library());
        try (PjrtClient client = platform.equals("cpu") ? PjrtClient.create(plugin, Map.of("cpu_device_count", 1L)) : PjrtClient.create(plugin)) {
            ServedModel model = ServedModel.load(null, "llama", "debug", "vocab_size=50257", 1, client);
            Tokenizer tokenizer = Tokenizers.load("gpt2");
            if (both) {
                decode(model, tokenizer, client, platform, 1);
                decode(model, tokenizer, client, platform, ROWS);
            }
            for (String workload : List.of("mixed", "uniform")) {
                List<String> bodies = workload.equals("mixed") ? mixedRequests(requests) : uniformRequests(requests);
                Load continuous = load(model, tokenizer, client, platform, "continuous", workload, bodies, clients);
                if (!both) {
                    continue;
                }
                Load fixed = load(model, tokenizer, client, platform, "static", workload, bodies, clients);
                System.out.printf(Locale.ROOT, "{\"bench\":\"serve_static_vs_continuous\",\"workload\":\"%s\",\"platform\":\"%s\","
                        + "\"requests\":%d,\"clients\":%d,\"throughput_ratio\":%.2f,\"tokens_per_s_ratio\":%.2f,"
                        + "\"static_p99_over_p50\":%.2f,\"continuous_p99_over_p50\":%.2f,\"static_per_token_p99_over_p50\":%.2f,"
                        + "\"continuous_per_token_p99_over_p50\":%.2f,\"static_ttft_p99_over_p50\":%.2f,"
                        + "\"continuous_ttft_p99_over_p50\":%.2f,\"static_tpot_p99_over_p50\":%.2f,\"continuous_tpot_p99_over_p50\":%.2f,"
                        + "\"goal\":\"continuous TPOT p99/p50 <= 2 and >= 2x static throughput\"}%n",
                        workload, platform, requests, clients, continuous.requestsPerSecond() / fixed.requestsPerSecond(),
                        continuous.tokensPerSecond() / fixed.tokensPerSecond(), fixed.whole().ratio(), continuous.whole().ratio(),
                        fixed.perToken().ratio(), continuous.perToken().ratio(), fixed.ttft().ratio(), continuous.ttft().ratio(),
                        fixed.tpot().ratio(), continuous.tpot().ratio());
            }
            model.params().values().forEach(v -> ((DeviceArray) v).close());
        }
    }

    /** Common words that are one GPT-2 token each (with their leading space), so a prompt's length in words is its length in tokens. */
    private static final String[] WORDS = {" the", " of", " and", " to", " in", " is", " it", " that", " was", " for", " on", " are",
        " with", " as", " his", " they", " be", " at", " one", " have", " this", " from", " or", " had", " by", " word", " but", " what"};

    /**
     * The acceptance workload: mixed prompt lengths (8 to 200 tokens) and output lengths (4 to 128
     * tokens), sampled at temperature 0.8 with a seed per request.
     */
    static List<String> mixedRequests(int n) throws Exception {
        var random = new SplittableRandom(2024);
        int[] outputs = {4, 8, 16, 32, 64, 128};
        List<String> bodies = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            bodies.add(body(random, 8 + random.nextInt(193), outputs[random.nextInt(outputs.length)], i));
        }
        return bodies;
    }

    /** The workload of the earlier load test: short prompts, 32 sampled tokens each. */
    static List<String> uniformRequests(int n) throws Exception {
        var random = new SplittableRandom(7);
        List<String> bodies = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            bodies.add(body(random, 8 + random.nextInt(8), 32, i));
        }
        return bodies;
    }

    private static String body(SplittableRandom random, int promptTokens, int maxTokens, int seed) throws Exception {
        var prompt = new StringBuilder("Once");
        for (int w = 1; w < promptTokens; w++) {
            prompt.append(WORDS[random.nextInt(WORDS.length)]);
        }
        return JSON.writeValueAsString(Map.of("prompt", prompt.toString(), "max_tokens", maxTokens, "temperature", 0.8, "seed", seed,
                "stream", true, "logprobs", 0));
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
            TimedDecode timed = TimedDecode.run(gen, rows);
            long best = timed.bestNanos();
            long tokens = timed.tokens();
            System.out.printf(Locale.ROOT, "{\"bench\":\"decode\",\"platform\":\"%s\",\"model\":\"llama-debug\",\"batch\":%d,\"new_tokens_per_row\":%d,"
                    + "\"tokens\":%d,\"seconds\":%.4f,\"tokens_per_s\":%.1f,\"ms_per_step\":%.3f}%n", platform, batch, newTokens, tokens,
                    best / 1e9, tokens / (best / 1e9), best / 1e6 / (newTokens + 1));
        }
    }

    private static Load load(ServedModel m, Tokenizer tok, PjrtClient client, String platform, String scheduler, String workload,
                             List<String> bodies, int clients) throws Exception {
        ServeOptions o = ServeOptions.defaults().withLengths(256, 512, ROWS).withServer(0, 1024, List.of("generate"))
                .withBatching(new ServeOptions.Batching(scheduler, ServeOptions.Batching.DEFAULT.prefillChunk(), 5));
        try (LmServer server = LmServer.start(m.model(), m.params(), tok, client, o, System.err)) {
            server.awaitReady();
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
            var next = new AtomicInteger();
            var errors = new AtomicInteger();
            List<Timing> timings = Collections.synchronizedList(new ArrayList<>());
            long t0 = System.nanoTime();
            try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
                for (int c = 0; c < clients; c++) {
                    pool.submit(() -> {
                        for (int i; (i = next.getAndIncrement()) < bodies.size(); ) {
                            try {
                                timings.add(stream(http, server, bodies.get(i)));
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
            List<Timing> ok = List.copyOf(timings);
            Load l = new Load(scheduler, bodies.size(), errors.get(), secs, ok.stream().mapToLong(Timing::tokens).sum(),
                    Pct.of(ok.stream().map(t -> (double) t.done()).toList()),
                    Pct.of(ok.stream().map(t -> (double) t.done() / Math.max(1, t.tokens())).toList()),
                    Pct.of(ok.stream().map(t -> (double) t.first()).toList()),
                    Pct.of(ok.stream().map(Timing::tpot).toList()));
            System.out.printf(Locale.ROOT, "{\"bench\":\"serve_load\",\"scheduler\":\"%s\",\"workload\":\"%s\",\"platform\":\"%s\","
                    + "\"model\":\"llama-debug\",\"rows\":%d,\"requests\":%d,\"clients\":%d,\"errors\":%d,\"seconds\":%.2f,"
                    + "\"requests_per_s\":%.3f,\"generated_tokens_per_s\":%.1f,\"p50_ms\":%.1f,\"p99_ms\":%.1f,\"p99_over_p50\":%.2f,"
                    + "\"per_token_p50_ms\":%.1f,\"per_token_p99_ms\":%.1f,\"ttft_p50_ms\":%.1f,\"ttft_p99_ms\":%.1f,"
                    + "\"ttft_p99_over_p50\":%.2f,\"tpot_p50_ms\":%.1f,\"tpot_p99_ms\":%.1f,\"tpot_p99_over_p50\":%.2f}%n",
                    scheduler, workload, platform, ROWS, l.requests(), clients, l.errors(), secs, l.requestsPerSecond(), l.tokensPerSecond(),
                    l.whole().p50(), l.whole().p99(), l.whole().ratio(), l.perToken().p50(), l.perToken().p99(), l.ttft().p50(),
                    l.ttft().p99(), l.ttft().ratio(), l.tpot().p50(), l.tpot().p99(), l.tpot().ratio());
            return l;
        }
    }

    /**
     * Sends one streamed completion and times it: a {@code logprobs} entry comes with every
     * generated token, so each event that carries one is a token as it left the server.
     */
    private static Timing stream(HttpClient http, LmServer server, String body) throws Exception {
        long s = System.nanoTime();
        var r = http.send(HttpRequest.newBuilder(server.uri().resolve("/v1/completions"))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofLines());
        if (r.statusCode() != 200) {
            throw new IllegalStateException("HTTP " + r.statusCode() + " " + String.join("\n", r.body().toList()));
        }
        long first = -1;
        long last = -1;
        int tokens = 0;
        boolean done = false;
        for (String line : (Iterable<String>) r.body()::iterator) {
            if (!line.startsWith("data: ")) {
                continue;
            }
            String data = line.substring(6);
            if (data.equals("[DONE]")) {
                done = true;
                continue;
            }
            JsonNode lp = JSON.readTree(data).get("choices").get(0).get("logprobs");
            int n = lp == null || lp.isNull() ? 0 : lp.get("tokens").size();
            if (n > 0) {
                long now = System.nanoTime() - s;
                if (first < 0) {
                    first = now;
                }
                last = now;
                tokens += n;
            }
        }
        if (!done || tokens == 0) {
            throw new IllegalStateException("the stream ended without [DONE] or without tokens (" + tokens + ")");
        }
        return new Timing(first, last, System.nanoTime() - s, tokens);
    }

    private static double pct(List<Double> sorted, double q) {
        if (sorted.isEmpty()) {
            return Double.NaN;
        }
        int i = (int) Math.min(sorted.size() - 1, Math.ceil(q * sorted.size()) - 1);
        return sorted.get(Math.max(0, i)) / 1e6;
    }
}
