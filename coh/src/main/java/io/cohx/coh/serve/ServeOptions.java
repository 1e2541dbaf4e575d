package io.cohx.coh.serve;

import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The LM server's settings, named after the original server's flags (docs/SERVING.md).
 *
 * @param host                  address to listen on (127.0.0.1: this machine only)
 * @param port                  TCP port (0 = any free port)
 * @param inputLength           longest prompt in tokens (longer prompts lose their start on the original endpoints)
 * @param seqLength             prompt plus generated tokens, and the longest scored sequence
 * @param batchSize             rows per compiled batch
 * @param dtype                 compute dtype: fp32, bf16 or fp16
 * @param doSample              false: the original endpoints decode greedily
 * @param temperature           default temperature of the original endpoints
 * @param topK                  top-k of the original endpoints (0 = off)
 * @param topP                  top-p of the original endpoints (1 = off)
 * @param addBosToken           put the tokenizer's bos before prompts
 * @param prependToPrefix       text put before every prefix ({@code prefix_text}, generation prompts)
 * @param appendToPrefix        text put after every prefix
 * @param prependToText         text put before every scored {@code text}
 * @param appendToText          text put after every scored {@code text}
 * @param chatPrependText       text put before the whole chat conversation
 * @param chatUserPrefix        before each user turn
 * @param chatUserSuffix        after each user turn
 * @param chatLmPrefix          before each model turn: the CoH feedback phrase the model answers after
 * @param chatLmSuffix          after each model turn
 * @param greedyUntilMaxLength  most tokens {@code /greedy-until} generates
 * @param preCompile            functions compiled at start-up: loglikelihood, generate, greedy_until, chat, all (or none)
 * @param maxQueue              requests waiting beyond this get 503 with Retry-After
 * @param modelName             the name the OpenAI endpoints report
 * @param seed                  base seed of requests that give none
 */
public record ServeOptions(String host, int port, int inputLength, int seqLength, int batchSize, String dtype, boolean doSample,
                           double temperature, int topK, double topP, boolean addBosToken, String prependToPrefix,
                           String appendToPrefix, String prependToText, String appendToText, String chatPrependText,
                           String chatUserPrefix, String chatUserSuffix, String chatLmPrefix, String chatLmSuffix,
                           int greedyUntilMaxLength, List<String> preCompile, int maxQueue, String modelName, long seed) {

    static final Set<String> COMPILABLE = Set.of("loglikelihood", "generate", "greedy_until", "chat", "all", "none");

    public ServeOptions {
        preCompile = List.copyOf(preCompile);
        if (inputLength < 1 || seqLength <= inputLength) {
            throw new IllegalArgumentException("--seq-length (" + seqLength + ") must be greater than --input-length (" + inputLength
                    + ") and that at least 1");
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("--batch-size must be >= 1, got " + batchSize);
        }
        if (maxQueue < 1) {
            throw new IllegalArgumentException("--max-queue must be >= 1, got " + maxQueue);
        }
        for (String p : preCompile) {
            if (!COMPILABLE.contains(p)) {
                throw new IllegalArgumentException("--pre-compile " + p + ": use a comma list of loglikelihood, generate, greedy_until, chat, all or none");
            }
        }
        dtype = dtype.toLowerCase(Locale.ROOT);
    }

    /** The original server's defaults (port 5007, input 1024 / sequence 2048 tokens), on this machine only. */
    public static ServeOptions defaults() {
        return new ServeOptions("127.0.0.1", 5007, 1024, 2048, 1, "fp32", true, 1.0, 50, 1.0, true, "", "", "", "",
                "", "User: ", " ", "A helpful answer:", " ", 5000, List.of("loglikelihood"), 64, "cohx", 0);
    }

    /** A copy with other lengths (tests and small models). */
    public ServeOptions withLengths(int input, int seq, int batch) {
        return new ServeOptions(host, port, input, seq, batch, dtype, doSample, temperature, topK, topP, addBosToken, prependToPrefix,
                appendToPrefix, prependToText, appendToText, chatPrependText, chatUserPrefix, chatUserSuffix, chatLmPrefix, chatLmSuffix,
                greedyUntilMaxLength, preCompile, maxQueue, modelName, seed);
    }

    /** A copy listening on {@code port} with {@code maxQueue} waiting requests and these functions compiled at start. */
    public ServeOptions withServer(int port, int maxQueue, List<String> preCompile) {
        return new ServeOptions(host, port, inputLength, seqLength, batchSize, dtype, doSample, temperature, topK, topP, addBosToken,
                prependToPrefix, appendToPrefix, prependToText, appendToText, chatPrependText, chatUserPrefix, chatUserSuffix,
                chatLmPrefix, chatLmSuffix, greedyUntilMaxLength, preCompile, maxQueue, modelName, seed);
    }

    boolean compiles(String function) {
        return preCompile.contains("all") || preCompile.contains(function);
    }
}
