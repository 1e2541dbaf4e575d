package io.cohx.models.tokenizer;

import io.cohx.models.tokenizer.jinja.JinjaException;
import io.cohx.models.tokenizer.jinja.Template;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A model's chat template: the Jinja source that Hugging Face's {@code apply_chat_template} renders
 * a conversation with, run by cohx's own interpreter of the Jinja subset such templates use
 * (identical output to jinja2 with Hugging Face's settings). Built-in templates by name:
 * {@code chatml} (SmolLM2, Qwen-style), {@code llama2}, {@code llama3}, {@code mistral},
 * {@code zephyr} (also TinyLlama-chat). Render the result with
 * {@link Tokenizer.SpecialTokens#PARSE} so the markup becomes control tokens.
 */
public final class ChatTemplate {

    /** One chat message, as a template sees it ({@code message['role']}, {@code message.content}). */
    public record Message(String role, String content) {}

    /** The built-in names. */
    public static final List<String> BUILT_IN = List.of("chatml", "llama2", "llama3", "mistral", "zephyr");

    private final String source;
    private final Template template;

    private ChatTemplate(String source, Template template) {
        this.source = source;
        this.template = template;
    }

    /** Parses a Jinja chat template; an unsupported construct is a {@link TokenizerException} naming the template line. */
    public static ChatTemplate parse(String jinjaSource) {
        try {
            return new ChatTemplate(jinjaSource, Template.parse(jinjaSource));
        } catch (JinjaException e) {
            throw new TokenizerException("chat template: " + e.getMessage(), e);
        }
    }

    /** A built-in template ({@link #BUILT_IN}). */
    public static ChatTemplate builtIn(String name) {
        if (!BUILT_IN.contains(name)) {
            throw new TokenizerException("no built-in chat template '" + name + "'; built-in: " + String.join(", ", BUILT_IN));
        }
        String resource = "/io/cohx/models/tokenizer/chat/" + name + ".jinja";
        try (InputStream in = ChatTemplate.class.getResourceAsStream(resource)) {
            if (in == null) throw new TokenizerException(resource + ": built-in chat template missing from the jar");
            return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new TokenizerException(resource + ": cannot read: " + e.getMessage(), e);
        }
    }

    /**
     * What a user passes: a built-in name, a {@code .jinja} file, or a Hugging Face
     * {@code tokenizer_config.json} (its {@code chat_template}) or a folder holding one.
     */
    public static ChatTemplate load(String nameOrPath) {
        if (BUILT_IN.contains(nameOrPath)) return builtIn(nameOrPath);
        Path p = Path.of(nameOrPath);
        if (Files.isDirectory(p)) {
            return fromFolder(p).orElseThrow(() -> new TokenizerException(p + ": the folder has no tokenizer_config.json with a "
                    + "chat_template; pass a template file or one of " + String.join(", ", BUILT_IN)));
        }
        if (!Files.isRegularFile(p)) {
            throw new TokenizerException(nameOrPath + ": neither a built-in chat template (" + String.join(", ", BUILT_IN)
                    + ") nor a file");
        }
        String text;
        try {
            text = Files.readString(p, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new TokenizerException(p + ": cannot read: " + e.getMessage(), e);
        }
        if (text.stripLeading().startsWith("{") && p.getFileName().toString().endsWith(".json")) {
            return fromTokenizerConfig(p).orElseThrow(() -> new TokenizerException(p + ": has no \"chat_template\" string"));
        }
        try {
            return parse(text);
        } catch (TokenizerException e) {
            throw new TokenizerException(p + ": " + e.getMessage(), e);
        }
    }

    /** The template of a Hugging Face folder (its tokenizer_config.json), if it has one. */
    public static Optional<ChatTemplate> fromFolder(Path folder) {
        Path config = folder.resolve("tokenizer_config.json");
        return Files.isRegularFile(config) ? fromTokenizerConfig(config) : Optional.empty();
    }

    /** The {@code chat_template} of a tokenizer_config.json (the default one when it lists several), if any. */
    public static Optional<ChatTemplate> fromTokenizerConfig(Path file) {
        var t = Json.read(file).path("chat_template");
        if (t.isTextual()) return Optional.of(parseNamed(file, t.asText()));
        if (t.isArray()) {
            for (var named : t) {
                if ("default".equals(named.path("name").asText())) return Optional.of(parseNamed(file, named.path("template").asText()));
            }
        }
        return Optional.empty();
    }

    private static ChatTemplate parseNamed(Path file, String source) {
        try {
            return parse(source);
        } catch (TokenizerException e) {
            throw new TokenizerException(file + ": " + e.getMessage(), e);
        }
    }

    /** The Jinja source. */
    public String source() {
        return source;
    }

    /**
     * Renders {@code messages} (with the assistant's turn opened when {@code addGenerationPrompt});
     * {@code variables} are further globals, such as {@code bos_token} and {@code eos_token}.
     */
    public String render(List<Message> messages, boolean addGenerationPrompt, Map<String, Object> variables) {
        var vars = new LinkedHashMap<String, Object>(variables);
        var msgs = new ArrayList<Object>(messages.size());
        for (Message m : messages) {
            var d = new LinkedHashMap<String, Object>();
            d.put("role", m.role());
            d.put("content", m.content());
            msgs.add(d);
        }
        vars.put("messages", msgs);
        vars.put("add_generation_prompt", addGenerationPrompt);
        try {
            return template.render(vars);
        } catch (JinjaException e) {
            throw new TokenizerException("chat template: " + e.getMessage(), e);
        }
    }

    /** The template variables a tokenizer provides: {@code bos_token}, {@code eos_token} (when it has them). */
    public static Map<String, Object> tokenVariables(Tokenizer tokenizer) {
        var vars = new LinkedHashMap<String, Object>();
        if (tokenizer.bosId() >= 0) vars.put("bos_token", tokenizer.idToPiece(tokenizer.bosId()));
        if (tokenizer.eosId() >= 0) vars.put("eos_token", tokenizer.idToPiece(tokenizer.eosId()));
        if (tokenizer.padId() >= 0) vars.put("pad_token", tokenizer.idToPiece(tokenizer.padId()));
        return vars;
    }
}
