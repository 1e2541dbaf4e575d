package io.cohx.cli;

import io.cohx.coh.serve.LmServer;
import io.cohx.coh.serve.ServeOptions;
import io.cohx.coh.serve.ServedModel;
import io.cohx.pjrt.PjrtClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.Arrays;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * {@code cohx serve}: the LM server of the original (its JSON endpoints and options, docs/SERVING.md)
 * with a chat page at {@code /} and an OpenAI-compatible API; runs until interrupted.
 */
@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Serve a model over HTTP: a chat page at /, the original CoH endpoints (/loglikelihood, /loglikelihood-rolling,"
                + " /generate, /greedy-until, /chat, /ready), /v1/completions and /v1/chat/completions (OpenAI style, streaming),"
                + " /health and /metrics.", "Options can also come from --config FILE.json; flags override it."})
final class ServeCommand implements Callable<Integer> {
    @Option(names = "--config", paramLabel = "FILE", description = "JSON file of option names and values.")
    java.nio.file.Path config;
    @Option(names = "--host", defaultValue = "127.0.0.1", description = "Address to listen on; 0.0.0.0 for every interface (default: ${DEFAULT-VALUE}).")
    String host;
    @Option(names = "--port", defaultValue = "5007", description = "TCP port; 0 = any free one (default: ${DEFAULT-VALUE}).")
    int port;
    @Mixin
    ModelOptions model;
    @Option(names = "--input-length", defaultValue = "1024", description = "Longest prompt in tokens (default: ${DEFAULT-VALUE}).")
    int inputLength;
    @Option(names = "--seq-length", defaultValue = "2048", description = "Prompt plus generated tokens; longest scored text window (default: ${DEFAULT-VALUE}).")
    int seqLength;
    @Option(names = "--batch-size", defaultValue = "4", description = "Requests run together in one batch (default: ${DEFAULT-VALUE}).")
    int batchSize;
    @Option(names = "--dtype", defaultValue = "fp32", description = "Compute dtype: fp32, bf16, fp16 (default: ${DEFAULT-VALUE}).")
    String dtype;
    @Option(names = "--do-sample", defaultValue = "true", negatable = true, fallbackValue = "true",
            description = "Sample on /generate and /chat; --no-do-sample decodes greedily (default: ${DEFAULT-VALUE}).")
    boolean doSample;
    @Option(names = "--temperature", defaultValue = "1.0", description = "Default temperature of the original endpoints (default: ${DEFAULT-VALUE}).")
    double temperature;
    @Option(names = "--top-k", defaultValue = "50", description = "Top-k of the original endpoints; 0 = off (default: ${DEFAULT-VALUE}).")
    int topK;
    @Option(names = "--top-p", defaultValue = "1.0", description = "Top-p of the original endpoints; 1 = off (default: ${DEFAULT-VALUE}).")
    double topP;
    @Option(names = "--add-bos-token", defaultValue = "true", negatable = true, fallbackValue = "true",
            description = "Start prompts with the tokenizer's bos token (default: ${DEFAULT-VALUE}).")
    boolean addBosToken;
    @Option(names = "--prepend-to-prefix", defaultValue = "", description = "Text put before every prompt / prefix_text.")
    String prependToPrefix;
    @Option(names = "--append-to-prefix", defaultValue = "", description = "Text put after every prompt / prefix_text.")
    String appendToPrefix;
    @Option(names = "--prepend-to-text", defaultValue = "", description = "Text put before every scored text.")
    String prependToText;
    @Option(names = "--append-to-text", defaultValue = "", description = "Text put after every scored text.")
    String appendToText;
    @Option(names = "--chat-prepend-text", defaultValue = "", description = "Text before the whole chat conversation.")
    String chatPrependText;
    @Option(names = "--chat-user-prefix", defaultValue = "User: ", description = "Before each user turn (default: '${DEFAULT-VALUE}').")
    String chatUserPrefix;
    @Option(names = "--chat-user-suffix", defaultValue = " ", description = "After each user turn (default: '${DEFAULT-VALUE}').")
    String chatUserSuffix;
    @Option(names = "--chat-lm-prefix", defaultValue = "A helpful answer:",
            description = "Before each model turn: the CoH feedback phrase (default: '${DEFAULT-VALUE}').")
    String chatLmPrefix;
    @Option(names = "--chat-lm-suffix", defaultValue = " ", description = "After each model turn (default: '${DEFAULT-VALUE}').")
    String chatLmSuffix;
    @Option(names = "--greedy-until-max-length", defaultValue = "5000", description = "Most tokens /greedy-until generates (default: ${DEFAULT-VALUE}).")
    int greedyUntilMaxLength;
    @Option(names = "--pre-compile", defaultValue = "loglikelihood", paramLabel = "LIST",
            description = "Compile at start-up: comma list of loglikelihood, generate, greedy_until, chat, all, none (default: ${DEFAULT-VALUE}).")
    String preCompile;
    @Option(names = "--max-queue", defaultValue = "64", description = "Requests that may wait; more get 503 + Retry-After (default: ${DEFAULT-VALUE}).")
    int maxQueue;
    @Option(names = "--model-name", defaultValue = "cohx", description = "Model name in OpenAI responses (default: ${DEFAULT-VALUE}).")
    String modelName;
    @Mixin
    PlatformOptions platform;

    ServeOptions options() {
        try {
            return new ServeOptions(host, port, inputLength, seqLength, batchSize, dtype, doSample, temperature, topK, topP, addBosToken,
                    prependToPrefix, appendToPrefix, prependToText, appendToText, chatPrependText, chatUserPrefix, chatUserSuffix,
                    chatLmPrefix, chatLmSuffix, greedyUntilMaxLength, Arrays.asList(preCompile.split(",")), maxQueue, modelName, model.seed);
        } catch (IllegalArgumentException e) {
            throw new CohxUserError(e.getMessage(), e);
        }
    }

    @Override
    public Integer call() throws Exception {
        ServeOptions o = options();
        try (PjrtClient client = platform.client(1)) {
            ServedModel m = model.load(client);
            var tokenizer = model.tokenizer(m);
            System.out.println("cohx serve: " + m.model().config().modelType() + " from " + m.source());
            LmServer server;
            try {
                server = LmServer.start(m.model(), m.params(), tokenizer, client, o, System.out);
            } catch (IllegalArgumentException e) {
                throw new CohxUserError(e.getMessage(), e);
            }
            var stopped = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                server.close();
                stopped.countDown();
            }));
            System.out.println("cohx serve: listening on " + server.uri() + "  (chat page: " + server.uri() + "/ , OpenAI API: "
                    + server.uri() + "/v1)");
            System.out.flush();
            stopped.await();
        }
        return 0;
    }
}
