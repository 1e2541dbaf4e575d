package io.cohx.models.generate;

import io.cohx.models.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * The host side of one row being generated, whatever schedules it: its token budget, the eos
 * and end tokens and stop strings that end it, its text decoded as tokens arrive (held back while it
 * might still become a stop string) and handed to the request's sink, and its result. Fed one
 * {@link Token} at a time; not thread-safe (the device thread owns it).
 */
public final class Generation {
    private final Generator.Request request;
    private final int budget;
    private final Tokenizer.IncrementalDecoder decoder;
    private final StopMatcher stops;
    private final int eos;
    private final List<Token> tokens = new ArrayList<>();
    private FinishReason finish;

    /**
     * @param budget    most tokens to generate (the request's, cut to the room the cache has)
     * @param tokenizer turns tokens into text for stop strings and the sink (null: ids only, no eos)
     */
    public Generation(Generator.Request request, int budget, Tokenizer tokenizer) {
        this.request = request;
        this.budget = budget;
        this.decoder = tokenizer == null ? null : tokenizer.incrementalDecoder();
        this.stops = new StopMatcher(request.stop());
        this.eos = tokenizer == null ? -1 : tokenizer.eosId();
        if (budget <= 0) {
            finish = FinishReason.LENGTH;
        }
    }

    public Generator.Request request() {
        return request;
    }

    /** True until the row has ended (budget, eos, stop string, or cancelled). */
    public boolean active() {
        return finish == null;
    }

    /** Tokens generated so far; also the index of the next one (which the sampler folds into the row's key). */
    public int generated() {
        return tokens.size();
    }

    /** Takes the next token; ignored once the row has ended. */
    public void accept(Token token) {
        if (finish != null) {
            return;
        }
        if (token.id() == eos || ends(token.id())) {
            end(FinishReason.EOS);
            return;
        }
        tokens.add(token);
        String shown = decoder == null ? "" : stops.push(decoder.push(token.id()));
        if (!request.sink().accept(shown, token)) {
            finish = FinishReason.CANCELLED;
            return;
        }
        if (stops.stopped()) {
            finish = FinishReason.STOP;
            return;
        }
        if (tokens.size() >= budget) {
            end(FinishReason.LENGTH);
        }
    }

    private boolean ends(int id) {
        for (int e : request.endTokens()) {
            if (e == id) {
                return true;
            }
        }
        return false;
    }

    /** Stops the row now because nobody wants it any more (its client left). */
    public void cancel() {
        if (finish == null) {
            finish = FinishReason.CANCELLED;
        }
    }

    private void end(FinishReason why) {
        finish = why;
        if (decoder != null) {
            String rest = stops.push(decoder.flush()) + stops.finish();
            if (!rest.isEmpty() && !request.sink().accept(rest, null)) {
                finish = FinishReason.CANCELLED;
            }
            if (stops.stopped() && why != FinishReason.CANCELLED) {
                finish = FinishReason.STOP;
            }
        }
    }

    /** The row's result; a row still running ends now with {@code ifRunning}. */
    public Generator.Result result(FinishReason ifRunning) {
        if (finish == null) {
            end(ifRunning);
        }
        int n = tokens.size();
        int[] ids = new int[n];
        float[] lp = new float[n];
        int[][] top = new int[n][];
        float[][] topLp = new float[n][];
        for (int i = 0; i < n; i++) {
            Token t = tokens.get(i);
            ids[i] = t.id();
            lp[i] = t.logprob();
            top[i] = t.top();
            topLp[i] = t.topLogprobs();
        }
        return new Generator.Result(ids, lp, top, topLp, decoder == null ? "" : stops.text(), finish);
    }
}
