package io.cohx.serve;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Counters behind {@code /metrics} (Prometheus text format): requests by endpoint and status,
 * generated and scored tokens, batches (decode steps under continuous batching), prefilled prompt
 * tokens, the queue depth, busy slots, and generation throughput over the last batches (tokens
 * divided by the device time of the batches that made them).
 */
final class ServeMetrics {
    private final Map<String, AtomicLong> requests = new TreeMap<>();
    private final AtomicLong generatedTokens = new AtomicLong();
    private final AtomicLong promptTokens = new AtomicLong();
    private final AtomicLong scoredRows = new AtomicLong();
    private final AtomicLong batches = new AtomicLong();
    private final AtomicLong cancelledRows = new AtomicLong();
    private final AtomicLong batchRows = new AtomicLong();
    private final AtomicLong prefilledTokens = new AtomicLong();
    private volatile int queueDepth;
    private volatile int activeSlots;
    private double recentTokens;
    private double recentSeconds;

    synchronized void request(String endpoint, int status) {
        requests.computeIfAbsent(endpoint + "\",status=\"" + status, k -> new AtomicLong()).incrementAndGet();
    }

    void queueDepth(int d) {
        queueDepth = d;
    }

    void activeSlots(int n) {
        activeSlots = n;
    }

    void prefilled(long tokens) {
        prefilledTokens.addAndGet(tokens);
    }

    void batchStarted(int rows) {
        batches.incrementAndGet();
        batchRows.addAndGet(rows);
    }

    void prompt(long tokens) {
        promptTokens.addAndGet(tokens);
    }

    synchronized void generated(long tokens, long nanos) {
        generatedTokens.addAndGet(tokens);
        // An exponential window: the rate follows the last few batches.
        recentTokens = recentTokens * 0.8 + tokens;
        recentSeconds = recentSeconds * 0.8 + nanos / 1e9;
    }

    void cancelled() {
        cancelledRows.incrementAndGet();
    }

    void scored(long rows) {
        scoredRows.addAndGet(rows);
    }

    long generatedTokens() {
        return generatedTokens.get();
    }

    synchronized String text() {
        var sb = new StringBuilder();
        sb.append("# HELP cohx_requests_total HTTP requests by endpoint and status.\n# TYPE cohx_requests_total counter\n");
        requests.forEach((k, v) -> sb.append("cohx_requests_total{endpoint=\"").append(k).append("\"} ").append(v.get()).append('\n'));
        line(sb, "cohx_generated_tokens_total", "counter", "Tokens generated.", generatedTokens.get());
        line(sb, "cohx_prompt_tokens_total", "counter", "Prompt tokens of generation requests.", promptTokens.get());
        line(sb, "cohx_scored_sequences_total", "counter", "Sequences scored (log-likelihood).", scoredRows.get());
        line(sb, "cohx_batches_total", "counter", "Generation batches (decode steps under continuous batching) run.", batches.get());
        line(sb, "cohx_prefilled_tokens_total", "counter", "Prompt tokens written into the KV cache by prefill chunks.", prefilledTokens.get());
        line(sb, "cohx_active_slots", "gauge", "KV-cache slots holding a request (continuous batching).", activeSlots);
        line(sb, "cohx_batch_rows_total", "counter", "Rows in those batches.", batchRows.get());
        line(sb, "cohx_cancelled_rows_total", "counter", "Generation rows stopped because their client went away.", cancelledRows.get());
        line(sb, "cohx_queue_depth", "gauge", "Requests waiting for the device.", queueDepth);
        sb.append("# HELP cohx_tokens_per_second Generation throughput of the recent batches.\n# TYPE cohx_tokens_per_second gauge\n")
                .append("cohx_tokens_per_second ").append(recentSeconds > 0 ? String.format("%.3f", recentTokens / recentSeconds) : "0")
                .append('\n');
        return sb.toString();
    }

    private static void line(StringBuilder sb, String name, String type, String help, long v) {
        sb.append("# HELP ").append(name).append(' ').append(help).append("\n# TYPE ").append(name).append(' ').append(type).append('\n')
                .append(name).append(' ').append(v).append('\n');
    }
}
