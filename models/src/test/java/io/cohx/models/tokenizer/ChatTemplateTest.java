package io.cohx.models.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Chat templates rendered by cohx's Jinja interpreter against jinja2 as Hugging Face's
 * apply_chat_template runs it (golden-chat.json from tools/reference/chat_template_golden.py):
 * the built-ins, the models' published templates, and the real templates of SmolLM2 (its GGUF)
 * and Qwen 3 (its tokenizer_config.json), on conversations with and without the generation prompt.
 */
class ChatTemplateTest {

    @TempDir
    Path dir;

    @Test
    void rendersExactlyAsJinja2() throws Exception {
        JsonNode golden = new ObjectMapper().readTree(ChatTemplateTest.class.getResourceAsStream("/chat/golden-chat.json"));
        var conversations = new ArrayList<List<ChatTemplate.Message>>();
        for (JsonNode conv : golden.get("conversations")) {
            var msgs = new ArrayList<ChatTemplate.Message>();
            for (JsonNode m : conv) msgs.add(new ChatTemplate.Message(m.get("role").asText(), m.get("content").asText()));
            conversations.add(msgs);
        }
        var templates = new HashMap<String, ChatTemplate>();
        for (String name : ChatTemplate.BUILT_IN) templates.put("builtin:" + name, ChatTemplate.builtIn(name));
        golden.get("published").properties().forEach(e -> templates.put("published:" + e.getKey(), ChatTemplate.parse(e.getValue().asText())));
        String smol = TestTokenizerFiles.smollm2Bundled().chatTemplate();
        templates.put("fetched:smollm2", ChatTemplate.parse(smol));
        ChatTemplate qwen = ChatTemplate.fromFolder(TestTokenizerFiles.qwen3Json().getParent()).orElseThrow();
        templates.put("fetched:qwen3", qwen);
        assertEquals(golden.at("/fetched_sha256/smollm2").asText(), sha256(smol));
        assertEquals(golden.at("/fetched_sha256/qwen3").asText(), sha256(qwen.source()));

        var failures = new ArrayList<String>();
        int checked = 0;
        for (JsonNode r : golden.get("renders")) {
            String name = r.get("template").asText();
            String family = name.substring(name.indexOf(':') + 1);
            Map<String, Object> vars = new HashMap<>();
            golden.get("variables").get(family).properties().forEach(e -> vars.put(e.getKey(), e.getValue().asText()));
            var conv = conversations.get(r.get("conversation").asInt());
            boolean gen = r.get("generation_prompt").asBoolean();
            String where = name + " conversation " + r.get("conversation").asInt() + (gen ? " +generation prompt" : "");
            checked++;
            try {
                String out = templates.get(name).render(conv, gen, vars);
                if (r.has("error")) failures.add(where + ": want error '" + r.get("error").asText() + "', rendered " + quote(out));
                else if (!out.equals(r.get("out").asText())) failures.add(where + ":\n  want " + quote(r.get("out").asText()) + "\n  got  " + quote(out));
            } catch (TokenizerException e) {
                if (!r.has("error")) failures.add(where + ": " + e.getMessage());
                else if (!e.getMessage().contains(r.get("error").asText())) failures.add(where + ": error " + e.getMessage());
            }
        }
        assertTrue(checked >= 300, "only " + checked + " renderings");
        if (!failures.isEmpty()) fail(failures.size() + " renderings differ from jinja2:\n" + String.join("\n", failures.subList(0, Math.min(8, failures.size()))));
    }

    @Test
    void unsupportedConstructsNameTheLine() {
        var e = assertThrows(TokenizerException.class, () -> ChatTemplate.parse("hello\n{% if x %}\n{% macro m() %}{% endmacro %}{% endif %}"));
        assertTrue(e.getMessage().contains("template line 3") && e.getMessage().contains("macro"), e.getMessage());
        e = assertThrows(TokenizerException.class, () -> ChatTemplate.parse("{{ x | wordwrap }}").render(List.of(), false, Map.of("x", "a")));
        assertTrue(e.getMessage().contains("template line 1") && e.getMessage().contains("wordwrap"), e.getMessage());
        e = assertThrows(TokenizerException.class, () -> ChatTemplate.parse("{% for m in messages %}\n{{ m.content"));
        assertTrue(e.getMessage().contains("template line 2") && e.getMessage().contains("never closed"), e.getMessage());
        e = assertThrows(TokenizerException.class, () -> ChatTemplate.load("no-such-template"));
        assertTrue(e.getMessage().contains("chatml") && e.getMessage().contains("no-such-template"), e.getMessage());
    }

    @Test
    void loadsTemplateFilesAndConfigs() throws Exception {
        Path jinja = Files.writeString(dir.resolve("t.jinja"), "{% for m in messages %}[{{ m.role }}]{{ m.content }}{% endfor %}\n");
        assertEquals("[user]hi", ChatTemplate.load(jinja.toString()).render(List.of(new ChatTemplate.Message("user", "hi")), false, Map.of()));
        Path config = Files.writeString(dir.resolve("tokenizer_config.json"), "{\"chat_template\": \"<{{ messages[0].content }}>\"}");
        assertEquals("<x>", ChatTemplate.load(config.toString()).render(List.of(new ChatTemplate.Message("user", "x")), false, Map.of()));
        assertEquals("<x>", ChatTemplate.load(dir.toString()).render(List.of(new ChatTemplate.Message("user", "x")), false, Map.of()));
    }

    /** The rendered ChatML of SmolLM2 encodes its markup as control tokens only when special tokens are parsed. */
    @Test
    void renderedChatEncodesToControlTokens() throws Exception {
        Tokenizer tok = Tokenizers.fromVocabulary(TestTokenizerFiles.smollm2Bundled().vocabulary());
        String text = ChatTemplate.builtIn("chatml").render(List.of(new ChatTemplate.Message("user", "Hi")), true,
                ChatTemplate.tokenVariables(tok));
        assertEquals("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", text);
        int[] ids = tok.encode(text, Tokenizer.SpecialTokens.PARSE);
        assertEquals(tok.pieceToId("<|im_start|>"), ids[0]);
        assertTrue(java.util.Arrays.stream(tok.encode(text)).noneMatch(id -> id == tok.pieceToId("<|im_start|>")));
    }

    private static String sha256(String s) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    }

    private static String quote(String s) {
        return GoldenParityTest.quote(s);
    }
}
