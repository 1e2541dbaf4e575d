package io.cohx.cli;

import io.cohx.serve.LmServer;
import io.cohx.serve.ServeOptions;
import io.cohx.coh.train.ServedModel;
import io.cohx.engine.mesh.Mesh;
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
    @Option(names = "--chat-template", paramLabel = "NAME|FILE",
            description = "Chat template of /v1/chat/completions and the chat page: a built-in (chatml, llama2, llama3, mistral, zephyr), "
                    + "a .jinja file or a tokenizer_config.json / folder holding one, or coh for the original CoH chat (the --chat-* "
                    + "options). Default: the model's own (a GGUF file's, or tokenizer_config.json beside --tokenizer or in the hf:: "
                    + "folder), else coh.")
    String chatTemplate;
    @Option(names = "--greedy-until-max-length", defaultValue = "5000", description = "Most tokens /greedy-until generates (default: ${DEFAULT-VALUE}).")
    int greedyUntilMaxLength;
    @Option(names = "--pre-compile", defaultValue = "loglikelihood", paramLabel = "LIST",
            description = "Compile at start-up: comma list of loglikelihood, generate, greedy_until, chat, all, none (default: ${DEFAULT-VALUE}).")
    String preCompile;
    @Option(names = "--max-queue", defaultValue = "64", description = "Requests that may wait; more get 503 + Retry-After (default: ${DEFAULT-VALUE}).")
    int maxQueue;
    @Option(names = "--model-name", defaultValue = "cohx", description = "Model name in OpenAI responses (default: ${DEFAULT-VALUE}).")
    String modelName;
    @Option(names = "--scheduler", defaultValue = "continuous",
            description = "continuous: requests join and leave the running batch at every step (--batch-size KV-cache slots); "
                    + "static: a batch runs until its longest request ends (default: ${DEFAULT-VALUE}).")
    String scheduler;
    @Option(names = "--prefill-chunk", defaultValue = "256",
            description = "Most prompt tokens prefilled per step; longer prompts are split so others keep decoding (default: ${DEFAULT-VALUE}).")
    int prefillChunk;
    @Option(names = "--max-logprobs", defaultValue = "20",
            description = "Most alternatives a request may ask for (logprobs / top_logprobs) (default: ${DEFAULT-VALUE}).")
    int maxLogprobs;
    @Option(names = "--mesh-dim", defaultValue = "1,1,1",
            description = "Device mesh dp,fsdp,mp: parameters by the training partition rules (tensor parallel over mp), "
                    + "KV-cache slots over dp x fsdp; one -1 is inferred (default: ${DEFAULT-VALUE}).")
    String meshDim;
    @Mixin
    PlatformOptions platform;

    ServeOptions options() {
        try {
            return new ServeOptions(host, port, inputLength, seqLength, batchSize, dtype, doSample, temperature, topK, topP, addBosToken,
                    prependToPrefix, appendToPrefix, prependToText, appendToText, chatPrependText, chatUserPrefix, chatUserSuffix,
                    chatLmPrefix, chatLmSuffix, greedyUntilMaxLength, Arrays.asList(preCompile.split(",")), maxQueue, modelName, model.seed,
                    new ServeOptions.Batching(scheduler, prefillChunk, maxLogprobs), null);
        } catch (IllegalArgumentException e) {
            throw new CohxUserError(e.getMessage(), e);
        }
    }

    @Override
    public Integer call() throws Exception {
        ServeOptions o = options();
        var early = model.tokenizerEarly();
        PjrtClient client = platform.client(platform.cpuDevicesFor(meshDim));
        Mesh mesh = Mesh.parse(meshDim, client.addressableDevices());
        ServedModel m = model.load(client);
        var tokenizer = model.tokenizer(m, early);
        if (!"coh".equals(chatTemplate)) {
            o = o.withChatTemplate(model.chatTemplate(m, chatTemplate).orElse(null));
        }
        System.out.println("cohx serve: " + m.model().config().modelType() + " from " + m.source()
                + (mesh.size() > 1 ? " on mesh " + mesh : "") + ", " + o.batching().scheduler() + " batching over " + o.batchSize()
                + (o.batching().continuous() ? " slots" : " rows") + ", chat: "
                + (o.chatTemplate() == null ? "CoH format (--chat-* options)" : "the model's chat template"));
        LmServer server;
        try {
            server = LmServer.start(m.model(), m.params(), tokenizer, client, mesh, o, System.out);
        } catch (IllegalArgumentException e) {
            throw new CohxUserError(e.getMessage(), e);
        }
        // SIGTERM/SIGINT: stop accepting, let the requests in flight finish, then end with status 0
        // (halt: the JVM would otherwise report the signal, 143).
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("cohx serve: stopping; finishing the requests in flight (up to " + LmServer.DRAIN.toSeconds() + " s)");
            System.out.flush();
            int status = 0;
            try {
                server.close();
                client.close();
                System.out.println("cohx serve: stopped");
            } catch (RuntimeException e) {
                System.err.println("cohx serve: stopping failed: " + e.getMessage());
                status = 1;
            }
            System.out.flush();
            System.err.flush();
            Runtime.getRuntime().halt(status);
        }, "cohx-serve-stop"));
        System.out.println("cohx serve: listening on " + server.uri() + "  (chat page: " + server.uri() + "/ , OpenAI API: "
                + server.uri() + "/v1)");
        System.out.flush();
        new CountDownLatch(1).await(); // until a signal ends the process
        return 0;
    }
}
