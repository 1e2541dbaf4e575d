package io.cohx.cli;

import io.cohx.coh.train.ServedModel;
import io.cohx.models.generate.Generator;
import io.cohx.models.generate.Sampling;
import io.cohx.models.tokenizer.ChatTemplate;
import io.cohx.models.tokenizer.Tokenizer;
import io.cohx.models.tokenizer.TokenizerException;
import io.cohx.pjrt.PjrtClient;
import io.cohx.serve.ModelWorker;
import io.cohx.serve.ServeOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code cohx generate}: one prompt in, the model's continuation streamed to stdout as it is generated (by the server's {@link ModelWorker}). */
@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Generate a continuation of --prompt with a KV cache, streaming the text to stdout.")
final class GenerateCommand implements Callable<Integer> {
    @Option(names = "--prompt", required = true, description = "The text to continue (e.g. 'User: ... A helpful answer:'), "
            + "or with --chat the user's message.")
    String prompt;
    @Option(names = "--chat", description = "Treat --prompt as a chat message: render it with the chat template (and --system), "
            + "open the assistant's turn, and encode the markup as control tokens. The template supplies bos itself.")
    boolean chat;
    @Option(names = "--system", paramLabel = "TEXT", description = "With --chat: a system message before the user's.")
    String system;
    @Option(names = "--chat-template", paramLabel = "NAME|FILE",
            description = "With --chat: a built-in template (chatml, llama2, llama3, mistral, zephyr), a .jinja file, or a "
                    + "tokenizer_config.json / folder holding one (default: the tokenizer_config.json beside --tokenizer "
                    + "or in the hf:: checkpoint folder, else the template that came with the weights: a GGUF file's, or a "
                    + "checkpoint's chat_template.jinja).")
    String chatTemplate;
    @Option(names = "--parse-special-tokens", description = "Without --chat: text in --prompt that spells a special token "
            + "(e.g. <|endoftext|>) becomes that token, as Hugging Face tokenizers do; by default it is plain text.")
    boolean parseSpecialTokens;
    @Option(names = "--max-new-tokens", defaultValue = "64", description = "Most tokens to generate (default: ${DEFAULT-VALUE}).")
    int maxNewTokens;
    @Option(names = "--temperature", defaultValue = "0", description = "0 = greedy (default: ${DEFAULT-VALUE}).")
    double temperature;
    @Option(names = "--top-k", defaultValue = "0", description = "Keep the k most likely tokens; 0 = off (default: ${DEFAULT-VALUE}).")
    int topK;
    @Option(names = "--top-p", defaultValue = "1.0", description = "Nucleus sampling mass; 1 = off (default: ${DEFAULT-VALUE}).")
    double topP;
    @Option(names = "--stop", paramLabel = "TEXT", description = "Stop at this text (not printed); repeatable.")
    List<String> stop = new ArrayList<>();
    @Option(names = "--add-bos-token", negatable = true, fallbackValue = "true",
            description = "Start the prompt with the tokenizer's bos token (default: as the vocabulary that came with the weights says, "
                    + "e.g. a GGUF file's add_bos_token; otherwise true).")
    Boolean addBos;
    @Option(names = "--dtype", defaultValue = "fp32", description = "Compute dtype: fp32, bf16, fp16 (default: ${DEFAULT-VALUE}).")
    String dtype;
    @Mixin
    ModelOptions model;
    @Mixin
    PlatformOptions platform;

    private ChatTemplate chatTemplate(ServedModel m) {
        return model.chatTemplate(m, chatTemplate).orElseThrow(() -> new CohxUserError("--chat: the model has no chat template (none "
                + "in the GGUF file or checkpoint, no tokenizer_config.json with one beside --tokenizer or in the checkpoint folder); "
                + "pass --chat-template with one of " + String.join(", ", ChatTemplate.BUILT_IN) + " or a template file"));
    }

    @Override
    public Integer call() throws Exception {
        Sampling sampling;
        try {
            sampling = new Sampling(temperature, topK, topP, model.seed);
        } catch (IllegalArgumentException e) {
            throw new CohxUserError(e.getMessage().replace("temperature", "--temperature").replace("top_p", "--top-p")
                    .replace("top_k", "--top-k"));
        }
        if (system != null && !chat) throw new CohxUserError("--system needs --chat");
        if (chatTemplate != null && !chat) throw new CohxUserError("--chat-template needs --chat");
        if (maxNewTokens < 1) {
            throw new CohxUserError("--max-new-tokens must be >= 1, got " + maxNewTokens);
        }
        if (!List.of("fp32", "bf16", "fp16").contains(dtype)) {
            throw new CohxUserError("--dtype " + dtype + ": use fp32, bf16 or fp16");
        }
        var out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        var early = model.tokenizerEarly();
        try (PjrtClient client = platform.client(1)) {
            ServedModel m = model.load(client);
            Tokenizer tok = model.tokenizer(m, early);
            int[] ids;
            if (chat) {
                ChatTemplate template = chatTemplate(m);
                var messages = new ArrayList<ChatTemplate.Message>();
                if (system != null) messages.add(new ChatTemplate.Message("system", system));
                messages.add(new ChatTemplate.Message("user", prompt));
                String text;
                try {
                    text = template.render(messages, true, ChatTemplate.tokenVariables(tok));
                } catch (TokenizerException e) {
                    throw new CohxUserError("--chat-template: " + e.getMessage(), e);
                }
                ids = tok.encode(text, Tokenizer.SpecialTokens.PARSE);
            } else {
                ids = tok.encode(prompt, parseSpecialTokens ? Tokenizer.SpecialTokens.PARSE : Tokenizer.SpecialTokens.LITERAL);
            }
            boolean bos = addBos != null ? addBos : model.addsBos(m);
            if (!chat && bos && tok.bosId() >= 0) {
                int[] b = new int[ids.length + 1];
                b[0] = tok.bosId();
                System.arraycopy(ids, 0, b, 1, ids.length);
                ids = b;
            }
            if (ids.length == 0) {
                throw new CohxUserError("--prompt is empty and the tokenizer has no bos token; give some text");
            }
            int length = ids.length + maxNewTokens;
            if (length > m.model().config().maxPositions()) {
                throw new CohxUserError("the prompt (" + ids.length + " tokens) plus --max-new-tokens " + maxNewTokens + " exceeds the model's "
                        + m.model().config().maxPositions() + " positions");
            }
            ServeOptions o = ServeOptions.defaults().withLengths(ids.length, length, 1).withServer(0, 1, List.of("none")).withDtype(dtype);
            try (var worker = new ModelWorker(m.model(), m.params(), tok, client, null, o, System.err)) {
                var result = worker.generate(List.of(new Generator.Request(ids, maxNewTokens, sampling, stop, (text, token) -> {
                    out.print(text);
                    out.flush();
                    return true;
                }))).getFirst();
                out.println();
                System.err.println("cohx generate: " + result.tokens().length + " tokens, stopped by " + result.finish().name().toLowerCase());
            } catch (IllegalArgumentException e) {
                throw new CohxUserError(e.getMessage(), e);
            }
        }
        return 0;
    }
}
