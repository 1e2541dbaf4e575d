package io.cohx.eval;

import io.cohx.serve.LmServer;
import io.cohx.serve.ServeOptions;

import java.io.PrintStream;
import java.net.URI;
import java.util.List;

/**
 * The LM server that {@code cohx eval lm-eval} points lm-evaluation-harness at, started in this
 * process on a free port of 127.0.0.1 and stopped when the evaluation ends. The only class of
 * this module that knows the server's API, so moving the server (its own module, another HTTP
 * stack) changes this file alone.
 */
public final class EvalServer implements AutoCloseable {
    private final LmServer server;

    private EvalServer(LmServer server) {
        this.server = server;
    }

    /**
     * Serves {@code model} with prompts of up to {@code inputLength} tokens, scored sequences and
     * generations of up to {@code seqLength} tokens, {@code batchSize} rows per compiled batch.
     */
    public static EvalServer start(EvalModel model, int inputLength, int seqLength, int batchSize, PrintStream log) {
        String dtype = model.dtype().name().toLowerCase(java.util.Locale.ROOT);
        // lm-eval's client sends up to num_concurrent requests at once and retries a 503; a deep
        // queue keeps it from seeing one. Defaults listen on 127.0.0.1; port 0 takes a free one.
        ServeOptions o = ServeOptions.defaults().withLengths(inputLength, seqLength, batchSize).withDtype(dtype)
                .withServer(0, 256, List.of("none"));
        try {
            return new EvalServer(LmServer.start(model.model(), model.params(), model.tokenizer(), model.client(), o, log));
        } catch (IllegalArgumentException e) {
            throw new EvalException(e.getMessage(), e);
        }
    }

    /** The server's base address, e.g. {@code http://127.0.0.1:40123}. */
    public URI uri() {
        return server.uri();
    }

    /** The OpenAI-style completions endpoint lm-eval's {@code local-completions} calls. */
    public URI completions() {
        return server.uri().resolve("/v1/completions");
    }

    /** The chat endpoint of {@code local-chat-completions}. */
    public URI chatCompletions() {
        return server.uri().resolve("/v1/chat/completions");
    }

    @Override
    public void close() {
        server.close();
    }
}
