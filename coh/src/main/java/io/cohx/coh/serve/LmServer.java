package io.cohx.coh.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.cohx.engine.DType;
import io.cohx.engine.DeviceArray;
import io.cohx.engine.NdArray;
import io.cohx.engine.Tree;
import io.cohx.models.CausalLm;
import io.cohx.models.generate.Buckets;
import io.cohx.models.generate.Generator;
import io.cohx.models.generate.Sampling;
import io.cohx.models.generate.Scorer;
import io.cohx.models.tokenizer.Tokenizer;
import io.cohx.pjrt.PjrtClient;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code cohx serve}: the original CoH LM server (docs/SERVING.md#endpoints) — {@code /loglikelihood},
 * {@code /loglikelihood-rolling}, {@code /generate}, {@code /greedy-until}, {@code /chat},
 * {@code /ready} with the same JSON — plus the OpenAI-style {@code /v1/completions} and
 * {@code /v1/chat/completions} (with server-sent-event streaming; {@link OpenAiApi}), the
 * tokenizer endpoints lm-evaluation-harness looks for, {@code /health}, {@code /metrics}, and the
 * chat page at {@code /}. HTTP runs on the JDK's server with a virtual thread per request; the
 * model runs on one device thread ({@link Scheduler}) that batches whatever is waiting.
 */
public final class LmServer implements AutoCloseable {
    private final ServeOptions options;
    private final Tokenizer tokenizer;
    private final Prompts prompts;
    private final Generator generator;
    private final Scorer scorer;
    private final Scheduler scheduler;
    private final ServeMetrics metrics = new ServeMetrics();
    private final HttpServer http;
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    private final Tree<DeviceArray> params;
    private final List<DeviceArray> uploaded = new ArrayList<>();
    private final CompletableFuture<Void> ready = new CompletableFuture<>();
    private final AtomicLong seeds;
    private final OpenAiApi openAi;
    private final byte[] chatPage;

    private LmServer(CausalLm model, Tree<?> hostParams, Tokenizer tokenizer, PjrtClient client, ServeOptions o, PrintStream log)
            throws IOException {
        this.options = o;
        this.tokenizer = tokenizer;
        this.prompts = new Prompts(tokenizer, o);
        this.seeds = new AtomicLong(o.seed());
        if (tokenizer.vocabSize() > model.config().vocabSize()) {
            throw new IllegalArgumentException("the tokenizer has " + tokenizer.vocabSize() + " ids but the model's vocab_size is "
                    + model.config().vocabSize() + "; use the model's own tokenizer");
        }
        if (o.seqLength() > model.config().maxPositions()) {
            throw new IllegalArgumentException("--seq-length " + o.seqLength() + " exceeds the model's " + model.config().maxPositions()
                    + " positions");
        }
        DType dtype = switch (o.dtype()) {
            case "fp32", "f32", "float32" -> DType.F32;
            case "bf16", "bfloat16" -> DType.BF16;
            case "fp16", "f16", "float16" -> DType.F16;
            default -> throw new IllegalArgumentException("--dtype " + o.dtype() + ": use fp32, bf16 or fp16");
        };
        this.params = hostParams.map(v -> v instanceof NdArray a ? DeviceArray.put(client, a) : (DeviceArray) v);
        for (String p : params.paths()) {
            if (hostParams.get(p) instanceof NdArray) {
                uploaded.add(params.get(p));
            }
        }
        int minBucket = Math.min(16, o.inputLength());
        this.generator = new Generator(model, params, tokenizer, client, o.batchSize(), o.seqLength(),
                Buckets.powersOfTwo(minBucket, o.inputLength()), dtype);
        this.scorer = new Scorer(model, params, client, o.batchSize(), Buckets.powersOfTwo(minBucket, o.seqLength()), dtype);
        this.scheduler = new Scheduler(generator, scorer, o.maxQueue(), metrics, () -> warmUp(log));
        this.openAi = new OpenAiApi(this);
        try (InputStream in = LmServer.class.getResourceAsStream("chat.html")) {
            String page = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8)
                    .replace("{{LM_PREFIX}}", escapeHtml(o.chatLmPrefix()))
                    .replace("{{MAX_TOKENS}}", Integer.toString(Math.min(128, o.seqLength() - o.inputLength())));
            this.chatPage = page.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        }
        this.http = HttpServer.create(new InetSocketAddress(o.host(), o.port()), 64);
        http.setExecutor(executor);
        http.createContext("/", this::handle);
        http.start();
    }

    /** Starts serving {@code model} with {@code params} (host or device arrays); the functions in pre_compile compile in the background. */
    public static LmServer start(CausalLm model, Tree<?> params, Tokenizer tokenizer, PjrtClient client, ServeOptions options,
                                 PrintStream log) {
        try {
            return new LmServer(model, params, tokenizer, client, options, log);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on " + options.host() + ":" + options.port() + ": " + e.getMessage()
                    + " (is another server on that port? pass --port)", e);
        }
    }

    private void warmUp(PrintStream log) {
        try {
            long t0 = System.nanoTime();
            if (options.compiles("loglikelihood")) {
                scorer.warmUp();
            }
            if (options.compiles("generate") || options.compiles("greedy_until") || options.compiles("chat")) {
                generator.warmUp();
            }
            if (!options.preCompile().isEmpty() && !options.preCompile().contains("none")) {
                log.printf("cohx serve: compiled %s in %.1f s%n", String.join(",", options.preCompile()), (System.nanoTime() - t0) / 1e9);
            }
            ready.complete(null);
        } catch (RuntimeException e) {
            ready.completeExceptionally(e);
            throw e;
        }
    }

    private static String escapeHtml(String s) {
        return s.replace("&", "&amp;").replace("\"", "&quot;").replace("<", "&lt;").replace(">", "&gt;");
    }

    /** Blocks until the pre-compiled functions are ready. */
    public void awaitReady() {
        ready.join();
    }

    public int port() {
        return http.getAddress().getPort();
    }

    public URI uri() {
        return URI.create("http://" + options.host() + ":" + port());
    }

    ServeOptions options() {
        return options;
    }

    Prompts prompts() {
        return prompts;
    }

    Tokenizer tokenizer() {
        return tokenizer;
    }

    ServeMetrics metrics() {
        return metrics;
    }

    long nextSeed() {
        return seeds.getAndIncrement();
    }

    // ---- routing ---------------------------------------------------------------------------------

    private void handle(HttpExchange ex) {
        String path = ex.getRequestURI().getPath();
        String method = ex.getRequestMethod();
        int status = 200;
        try {
            status = route(ex, method, path);
        } catch (BadRequest e) {
            status = 400;
            trySend(ex, 400, Http.error(e.getMessage(), "invalid_request_error", e.field()));
        } catch (Overloaded e) {
            status = 503;
            ex.getResponseHeaders().set("Retry-After", "1");
            trySend(ex, 503, Http.error(e.getMessage(), "overloaded", null));
        } catch (IOException e) {
            status = 499; // the client went away
        } catch (RuntimeException e) {
            status = 500;
            trySend(ex, 500, Http.error(e.getClass().getSimpleName() + ": " + e.getMessage(), "server_error", null));
        } finally {
            metrics.request(path, status);
            ex.close();
        }
    }

    private static void trySend(HttpExchange ex, int status, Object body) {
        try {
            Http.json(ex, status, body);
        } catch (IOException | RuntimeException ignored) {
            // Headers may already be out (a failed stream) or the client is gone.
        }
    }

    private int route(HttpExchange ex, String method, String path) throws IOException {
        boolean get = method.equals("GET") || method.equals("HEAD");
        boolean post = method.equals("POST");
        switch (path) {
            case "/", "/index.html" -> {
                if (!get) return notAllowed(ex, "GET");
                Http.send(ex, 200, "text/html; charset=utf-8", chatPage);
            }
            case "/ready" -> {
                if (!get) return notAllowed(ex, "GET");
                if (!ready.isDone() || ready.isCompletedExceptionally()) {
                    Http.json(ex, 503, Map.of("status", "compiling"));
                    return 503;
                }
                Http.json(ex, 200, Map.of("status", "ready"));
            }
            case "/health" -> {
                if (!get) return notAllowed(ex, "GET");
                Http.json(ex, 200, Map.of("status", "ok", "ready", ready.isDone() && !ready.isCompletedExceptionally(),
                        "queue_depth", scheduler.depth(), "model", options.modelName()));
            }
            case "/metrics" -> {
                if (!get) return notAllowed(ex, "GET");
                metrics.queueDepth(scheduler.depth());
                Http.send(ex, 200, "text/plain; version=0.0.4", metrics.text().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            }
            case "/loglikelihood" -> {
                if (!post) return notAllowed(ex, "POST");
                loglikelihood(ex);
            }
            case "/loglikelihood-rolling" -> {
                if (!post) return notAllowed(ex, "POST");
                loglikelihoodRolling(ex);
            }
            case "/generate" -> {
                if (!post) return notAllowed(ex, "POST");
                generate(ex);
            }
            case "/greedy-until" -> {
                if (!post) return notAllowed(ex, "POST");
                greedyUntil(ex);
            }
            case "/chat" -> {
                if (!post) return notAllowed(ex, "POST");
                chat(ex);
            }
            default -> {
                return openAi.route(ex, method, path);
            }
        }
        return 200;
    }

    static int notAllowed(HttpExchange ex, String allow) throws IOException {
        ex.getResponseHeaders().set("Allow", allow);
        Http.json(ex, 405, Http.error("use " + allow + " for " + ex.getRequestURI().getPath(), "invalid_request_error", null));
        return 405;
    }

    // ---- the original endpoints -----------------------------------------------------------------

    private void loglikelihood(HttpExchange ex) throws IOException {
        Fields f = Http.body(ex);
        List<String> prefix = f.strings("prefix_text");
        List<String> text = f.strings("text");
        if (prefix.size() != text.size()) {
            throw new BadRequest("text", "'prefix_text' has " + prefix.size() + " entries but 'text' has " + text.size()
                    + "; send one prefix per text");
        }
        List<Scorer.Row> rows = new ArrayList<>();
        List<Integer> rowOf = new ArrayList<>();
        for (int i = 0; i < text.size(); i++) {
            int[] p = prompts.scoredPrefix(prefix.get(i));
            int[] t = prompts.scoredText(text.get(i));
            if (t.length == 0 || (p.length == 0 && prompts.bos() < 0 && t.length < 2)) {
                rowOf.add(-1);
                continue;
            }
            rowOf.add(rows.size());
            rows.add(Scorer.Row.continuation(prompts.bos(), p, t));
        }
        List<Scorer.Scored> scored = score(rows);
        ObjectNode out = Http.JSON.createObjectNode();
        ArrayNode ll = out.putArray("log_likelihood");
        ArrayNode greedy = out.putArray("is_greedy");
        for (int r : rowOf) {
            ll.add(r < 0 ? 0.0 : scored.get(r).logLikelihood());
            greedy.add(r < 0 || scored.get(r).greedy());
        }
        Http.json(ex, 200, out);
    }

    private void loglikelihoodRolling(HttpExchange ex) throws IOException {
        Fields f = Http.body(ex);
        List<String> text = f.strings("text");
        List<Scorer.Row> rows = new ArrayList<>();
        List<int[]> spans = new ArrayList<>();
        for (String t : text) {
            int[] tokens = prompts.rollingText(t);
            int from = rows.size();
            if (tokens.length > 0) {
                rows.addAll(Scorer.rolling(prompts.bos(), tokens, options.seqLength()));
            }
            spans.add(new int[] {from, rows.size()});
        }
        List<Scorer.Scored> scored = score(rows);
        ObjectNode out = Http.JSON.createObjectNode();
        ArrayNode ll = out.putArray("log_likelihood");
        ArrayNode greedy = out.putArray("is_greedy");
        for (int[] s : spans) {
            double sum = 0;
            boolean g = true;
            for (int i = s[0]; i < s[1]; i++) {
                sum += scored.get(i).logLikelihood();
                g &= scored.get(i).greedy();
            }
            ll.add(sum);
            greedy.add(g);
        }
        Http.json(ex, 200, out);
    }

    private Sampling originalSampling(Fields f) {
        double t = f.number("temperature", options.temperature(), 0, 100);
        long seed = f.optionalLong("seed") != null ? f.optionalLong("seed") : nextSeed();
        return options.doSample() && t > 0 ? new Sampling(t, options.topK(), options.topP(), seed) : Sampling.GREEDY;
    }

    private void generate(HttpExchange ex) throws IOException {
        Fields f = Http.body(ex);
        List<String> text = f.strings(f.has("text") || !f.has("prefix_text") ? "text" : "prefix_text");
        Sampling s = originalSampling(f);
        List<Generator.Request> rows = new ArrayList<>();
        for (String t : text) {
            rows.add(new Generator.Request(prompts.prefix(t), options.seqLength() - options.inputLength(), s));
        }
        List<Generator.Result> res = runGenerate(rows, null);
        ObjectNode out = Http.JSON.createObjectNode();
        ArrayNode texts = out.putArray("output_text");
        res.forEach(r -> texts.add(r.text()));
        Http.json(ex, 200, out);
    }

    private void greedyUntil(HttpExchange ex) throws IOException {
        Fields f = Http.body(ex);
        List<String> prefix = f.strings("prefix_text");
        JsonNode until = f.get("until");
        if (until == null || !until.isArray() || until.size() != prefix.size()) {
            throw new BadRequest("until", "'until' must be a list with one entry (a string or a list of strings) per prefix_text");
        }
        int max = Math.min(options.greedyUntilMaxLength(), options.seqLength() - options.inputLength());
        List<Generator.Request> rows = new ArrayList<>();
        for (int i = 0; i < prefix.size(); i++) {
            List<String> stops = new ArrayList<>();
            JsonNode u = until.get(i);
            if (u.isTextual()) {
                stops.add(u.textValue());
            } else if (u.isArray()) {
                u.forEach(s -> {
                    if (!s.isTextual()) {
                        throw new BadRequest("until", "'until' entries must be strings");
                    }
                    stops.add(s.textValue());
                });
            } else {
                throw new BadRequest("until", "'until[" + i + "]' must be a string or a list of strings");
            }
            rows.add(new Generator.Request(prompts.prefix(prefix.get(i)), max, Sampling.GREEDY, stops, null));
        }
        List<Generator.Result> res = runGenerate(rows, null);
        ObjectNode out = Http.JSON.createObjectNode();
        ArrayNode texts = out.putArray("output_text");
        res.forEach(r -> texts.add(r.text()));
        Http.json(ex, 200, out);
    }

    private void chat(HttpExchange ex) throws IOException {
        Fields f = Http.body(ex);
        String prompt = f.string("prompt");
        String context = f.string("context", "");
        String turn = prompts.chatTurn(context, prompt, options.chatLmPrefix());
        Sampling s = originalSampling(f);
        int[] ids = prompts.prefix(options.chatPrependText() + turn);
        var row = new Generator.Request(ids, options.seqLength() - options.inputLength(), s);
        Generator.Result r = runGenerate(List.of(row), null).getFirst();
        String response = r.text().strip();
        ObjectNode out = Http.JSON.createObjectNode();
        out.put("response", response);
        out.put("context", prompts.chatContext(turn, " " + response));
        Http.json(ex, 200, out);
    }

    // ---- running jobs -------------------------------------------------------------------------

    List<Scorer.Scored> score(List<Scorer.Row> rows) {
        if (rows.isEmpty()) {
            return List.of();
        }
        return await(scheduler.submit(new Scheduler.ScoreJob(rows)).done);
    }

    /** Receives streamed text on the request's thread; an IOException means the client left. */
    interface PieceWriter {
        void write(int row, String piece) throws IOException;
    }

    private record Piece(int row, String text) {}

    private static final Object END = new Object();

    /**
     * Generates {@code rows} as one job. With a writer, text is handed to it as it comes, on this
     * thread; if the writer fails (the client disconnected) the job is cancelled, which frees its
     * rows at the next token, and null is returned.
     */
    List<Generator.Result> runGenerate(List<Generator.Request> rows, PieceWriter writer) throws IOException {
        for (Generator.Request r : rows) {
            metrics.prompt(r.prompt().length);
        }
        if (writer == null) {
            return await(scheduler.submit(new Scheduler.GenerateJob(rows)).done);
        }
        var events = new LinkedBlockingQueue<Object>();
        List<Generator.Request> streamed = new ArrayList<>();
        for (int i = 0; i < rows.size(); i++) {
            int row = i;
            Generator.Request r = rows.get(i);
            streamed.add(new Generator.Request(r.prompt(), r.maxNewTokens(), r.sampling(), r.stop(), piece -> {
                events.add(new Piece(row, piece));
                return true;
            }));
        }
        var job = scheduler.submit(new Scheduler.GenerateJob(streamed));
        job.done.whenComplete((v, e) -> events.add(END));
        while (true) {
            Object e;
            try {
                e = events.take();
            } catch (InterruptedException ie) {
                job.cancelled.set(true);
                Thread.currentThread().interrupt();
                throw new IOException("interrupted");
            }
            if (e == END) {
                break;
            }
            Piece p = (Piece) e;
            try {
                writer.write(p.row(), p.text());
            } catch (IOException io) {
                job.cancelled.set(true);
                throw io;
            }
        }
        return await(job.done);
    }

    private static <T> T await(CompletableFuture<T> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the model", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException(e.getCause());
        }
    }

    /** Stops listening, lets the device thread finish, frees programs and parameters. */
    @Override
    public void close() {
        http.stop(0);
        scheduler.close();
        executor.shutdownNow();
        generator.close();
        scorer.close();
        uploaded.forEach(DeviceArray::close); // arrays the caller passed stay the caller's
    }
}
