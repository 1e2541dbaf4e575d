package io.cohx.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.cohx.engine.Tree;
import io.cohx.engine.mesh.Mesh;
import io.cohx.models.CausalLm;
import io.cohx.models.generate.Generator;
import io.cohx.models.generate.Sampling;
import io.cohx.models.generate.Scorer;
import io.cohx.models.tokenizer.Tokenizer;
import io.cohx.pjrt.PjrtClient;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code cohx serve}: the original CoH LM server (docs/SERVING.md#endpoints) — {@code /loglikelihood},
 * {@code /loglikelihood-rolling}, {@code /generate}, {@code /greedy-until}, {@code /chat},
 * {@code /ready} with the same JSON — plus the OpenAI-style {@code /v1/completions} and
 * {@code /v1/chat/completions} (with server-sent-event streaming and log-probs; {@link OpenAiApi}),
 * the tokenizer endpoints lm-evaluation-harness looks for, {@code /health}, {@code /metrics}, and
 * the chat page at {@code /}. HTTP runs on Jetty with a virtual thread per request
 * ({@link WebServer}); the model runs on one device thread ({@link Scheduler}): by default
 * continuous batching over {@code batch_size} KV-cache slots, optionally on a mesh.
 *
 * <p>Embedding it (tests, evaluation): {@link #start} with a loaded model, {@link #uri}, and
 * {@link #close} (drains the requests in flight first). CoH specifics such as the feedback phrase
 * of the chat endpoints are options, not code.
 */
public final class LmServer implements AutoCloseable {
    /** How long {@link #close} lets requests in flight finish. */
    public static final Duration DRAIN = Duration.ofSeconds(30);

    private final ServeOptions options;
    private final Tokenizer tokenizer;
    private final Prompts prompts;
    private final ChatFormat chatFormat;
    private final ModelWorker worker;
    private final WebServer http;
    private final AtomicLong seeds;
    private final OpenAiApi openAi;
    private final byte[] chatPage;

    private LmServer(CausalLm model, Tree<?> params, Tokenizer tokenizer, PjrtClient client, Mesh mesh, ServeOptions o, PrintStream log) {
        this.options = o;
        this.tokenizer = tokenizer;
        this.prompts = new Prompts(tokenizer, o);
        this.chatFormat = o.chatTemplate() == null ? new ChatFormat.Coh(o, prompts) : ChatFormat.Template.of(o.chatTemplate(), tokenizer);
        this.seeds = new AtomicLong(o.seed());
        this.openAi = new OpenAiApi(this);
        try (InputStream in = LmServer.class.getResourceAsStream("chat.html")) {
            String page = new String(in.readAllBytes(), StandardCharsets.UTF_8)
                    .replace("{{LM_PREFIX}}", escapeHtml(o.chatLmPrefix()))
                    .replace("{{CHAT_FORMAT}}", chatFormat.describe())
                    .replace("{{MAX_TOKENS}}", Integer.toString(Math.min(128, o.seqLength() - o.inputLength())));
            this.chatPage = page.getBytes(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the chat page from the jar: " + e.getMessage(), e);
        }
        this.worker = new ModelWorker(model, params, tokenizer, client, mesh, o, log);
        try {
            this.http = new WebServer(o.host(), o.port(), DRAIN, this::handle);
        } catch (RuntimeException e) {
            worker.close();
            throw e;
        }
    }

    /**
     * Starts serving {@code model} with {@code params} (host or device arrays; the caller's arrays
     * stay the caller's) on one device; the functions in pre_compile compile in the background
     * ({@link #awaitReady}).
     */
    public static LmServer start(CausalLm model, Tree<?> params, Tokenizer tokenizer, PjrtClient client, ServeOptions options,
                                 PrintStream log) {
        return start(model, params, tokenizer, client, null, options, log);
    }

    /**
     * As above on {@code mesh} (null: one device): parameters by the model's partition rules
     * (tensor parallel over mp), KV-cache slots and batches over dp × fsdp.
     */
    public static LmServer start(CausalLm model, Tree<?> params, Tokenizer tokenizer, PjrtClient client, Mesh mesh, ServeOptions options,
                                 PrintStream log) {
        return new LmServer(model, params, tokenizer, client, mesh, options, log);
    }

    private static String escapeHtml(String s) {
        return s.replace("&", "&amp;").replace("\"", "&quot;").replace("<", "&lt;").replace(">", "&gt;");
    }

    /** Blocks until the pre-compiled functions are ready. */
    public void awaitReady() {
        worker.awaitReady();
    }

    public int port() {
        return http.port();
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

    ChatFormat chatFormat() {
        return chatFormat;
    }

    Tokenizer tokenizer() {
        return tokenizer;
    }

    ServeMetrics metrics() {
        return worker.metrics();
    }

    long nextSeed() {
        return seeds.getAndIncrement();
    }

    // ---- routing ---------------------------------------------------------------------------------

    private void handle(Http ex) {
        String path = ex.path();
        int status = 200;
        try {
            status = route(ex, ex.method(), path);
        } catch (BadRequest e) {
            status = 400;
            trySend(ex, 400, Http.error(e.getMessage(), "invalid_request_error", e.field()));
        } catch (Http.TooLarge e) {
            status = 413;
            // Answer first, then take in (and drop) the rest of the body, so the client reads the 413
            // instead of a reset; a body past the drain limit closes the connection.
            ex.header("Connection", "close");
            trySend(ex, 413, Http.error(e.getMessage(), "invalid_request_error", null));
            ex.drainBody();
        } catch (Overloaded e) {
            status = 503;
            ex.header("Retry-After", "1");
            trySend(ex, 503, Http.error(e.getMessage(), "overloaded", null));
        } catch (IOException e) {
            status = 499; // the client went away
        } catch (RuntimeException e) {
            status = 500;
            trySend(ex, 500, Http.error(e.getClass().getSimpleName() + ": " + e.getMessage(), "server_error", null));
        } finally {
            worker.metrics().request(path, status);
        }
    }

    private static void trySend(Http ex, int status, Object body) {
        if (ex.response.isCommitted()) {
            return; // a stream that failed midway: nothing more can be said to the client
        }
        try {
            ex.json(status, body);
        } catch (IOException | RuntimeException ignored) {
            // The client is gone.
        }
    }

    private int route(Http ex, String method, String path) throws IOException {
        boolean get = method.equals("GET") || method.equals("HEAD");
        boolean post = method.equals("POST");
        switch (path) {
            case "/", "/index.html" -> {
                if (!get) return notAllowed(ex, "GET");
                ex.send(200, "text/html; charset=utf-8", chatPage);
            }
            case "/ready" -> {
                if (!get) return notAllowed(ex, "GET");
                if (!worker.ready()) {
                    ex.json(503, Map.of("status", "compiling"));
                    return 503;
                }
                ex.json(200, Map.of("status", "ready"));
            }
            case "/health" -> {
                if (!get) return notAllowed(ex, "GET");
                ex.json(200, Map.of("status", "ok", "ready", worker.ready(),
                        "queue_depth", worker.depth(), "model", options.modelName()));
            }
            case "/metrics" -> {
                if (!get) return notAllowed(ex, "GET");
                worker.metrics().queueDepth(worker.depth());
                ex.send(200, "text/plain; version=0.0.4", worker.metrics().text().getBytes(StandardCharsets.UTF_8));
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

    static int notAllowed(Http ex, String allow) throws IOException {
        ex.header("Allow", allow);
        ex.json(405, Http.error("use " + allow + " for " + ex.path(), "invalid_request_error", null));
        return 405;
    }

    // ---- the original endpoints -----------------------------------------------------------------

    private void loglikelihood(Http ex) throws IOException {
        Fields f = ex.body();
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
        ex.json(200, out);
    }

    private void loglikelihoodRolling(Http ex) throws IOException {
        Fields f = ex.body();
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
        ex.json(200, out);
    }

    private Sampling originalSampling(Fields f) {
        double t = f.number("temperature", options.temperature(), 0, 100);
        long seed = f.optionalLong("seed") != null ? f.optionalLong("seed") : nextSeed();
        return options.doSample() && t > 0 ? new Sampling(t, options.topK(), options.topP(), seed) : Sampling.GREEDY;
    }

    private void generate(Http ex) throws IOException {
        Fields f = ex.body();
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
        ex.json(200, out);
    }

    private void greedyUntil(Http ex) throws IOException {
        Fields f = ex.body();
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
        ex.json(200, out);
    }

    private void chat(Http ex) throws IOException {
        Fields f = ex.body();
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
        ex.json(200, out);
    }

    // ---- running jobs -------------------------------------------------------------------------

    List<Scorer.Scored> score(List<Scorer.Row> rows) {
        return worker.score(rows);
    }

    /** Generates {@code rows}; with a writer, their output is streamed to it on this thread (see {@link ModelWorker#stream}). */
    List<Generator.Result> runGenerate(List<Generator.Request> rows, ModelWorker.PieceWriter writer) throws IOException {
        return writer == null ? worker.generate(rows) : worker.stream(rows, writer);
    }

    /**
     * Stops listening and drains: new requests get 503 while those in flight (streams included)
     * finish, for up to {@link #DRAIN}; then stops the device thread and frees programs, the cache
     * and the parameters placed here (arrays the caller passed stay the caller's).
     */
    @Override
    public void close() {
        try {
            http.close();
        } finally {
            worker.close();
        }
    }
}
