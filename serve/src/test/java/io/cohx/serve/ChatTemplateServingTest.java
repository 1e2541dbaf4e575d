package io.cohx.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cohx.engine.DType;
import io.cohx.models.generate.Buckets;
import io.cohx.models.generate.Generator;
import io.cohx.models.generate.Sampling;
import io.cohx.models.gguf.GgufReader;
import io.cohx.models.gguf.GgufVocabulary;
import io.cohx.models.testdata.TestModels;
import io.cohx.models.tokenizer.BundledTokenizer;
import io.cohx.models.tokenizer.ChatTemplate;
import io.cohx.models.tokenizer.Tokenizer;
import io.cohx.models.tokenizer.Tokenizers;
import io.cohx.pjrt.PjrtClient;
import io.cohx.pjrt.testing.TestPlugins;
import org.junit.jupiter.api.Test;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code /v1/chat/completions} through the model's chat template, on a real server: SmolLM2's
 * tokenizer and ChatML template read from the real GGUF file, over a small random-weight LLaMA
 * with grouped-query attention (4 query heads, 2 KV heads) and SmolLM2's vocabulary. Four
 * conversations sent at once to 2 KV-cache slots (so rows join and leave the running batch)
 * each answer exactly what the static generator gives for the rendered conversation alone;
 * the prompt is the template's rendering with its markup as control tokens; the turn ends at
 * {@code <|im_end|>} as a control token; streaming gives the same text; the chat page knows it
 * talks to a template.
 */
class ChatTemplateServingTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String GQA = "hidden_size=64,intermediate_size=128,num_hidden_layers=2,num_attention_heads=4,num_key_value_heads=2,"
            + "vocab_size=49152";

    @Test
    void chatRendersTheModelsTemplateAndContinuousGqaServingEqualsGeneratingAlone() throws Exception {
        BundledTokenizer bundled;
        try (GgufReader r = GgufReader.open(TestModels.smolLm2())) {
            bundled = GgufVocabulary.read(r);
        }
        Tokenizer tok = Tokenizers.fromVocabulary(bundled.vocabulary());
        ChatTemplate template = ChatTemplate.parse(bundled.chatTemplate());
        int imEnd = tok.encode("<|im_end|>", Tokenizer.SpecialTokens.PARSE)[0];

        // The end of an assistant turn: a control token with this tokenizer, a stop string where the markup is plain text.
        var format = ChatFormat.Template.of(template, tok);
        assertArrayEquals(new int[] {imEnd}, format.endTokens());
        assertEquals(List.of(), format.stops());
        var plain = ChatFormat.Template.of(ChatTemplate.builtIn("chatml"), Tokenizers.load("gpt2"));
        assertEquals(List.of("<|im_end|>"), plain.stops());
        assertEquals(0, plain.endTokens().length);

        List<List<ChatTemplate.Message>> chats = List.of(
                List.of(new ChatTemplate.Message("user", "What is the capital of France?")),
                List.of(new ChatTemplate.Message("system", "You answer in one word."), new ChatTemplate.Message("user", "Name a colour.")),
                List.of(new ChatTemplate.Message("user", "Hi!"), new ChatTemplate.Message("assistant", "Hello! How can I help?"),
                        new ChatTemplate.Message("user", "Tell me a joke.")),
                List.of(new ChatTemplate.Message("user", "Count to five.")));
        int[] maxTokens = {16, 6, 12, 9};

        PjrtClient client = TestPlugins.cpuClient(1);
        ServeOptions o = ServeOptions.defaults().withLengths(96, 112, 2).withServer(0, 16, List.of("generate")).withChatTemplate(template);
        try (TestModel model = TestModel.random("llama", "debug", GQA, 11, client);
             LmServer server = LmServer.start(model.model(), model.params(), tok, client, o, System.out)) {
            assertEquals(2, model.model().config().numKvHeads());
            server.awaitReady();
            HttpClient http = HttpClient.newHttpClient();
            List<CompletableFuture<HttpResponse<String>>> sent = new ArrayList<>();
            for (int i = 0; i < chats.size(); i++) {
                sent.add(http.sendAsync(post(server, Map.of("messages", chats.get(i), "max_tokens", maxTokens[i], "temperature", 0)),
                        HttpResponse.BodyHandlers.ofString()));
            }
            List<JsonNode> answers = new ArrayList<>();
            for (var f : sent) {
                HttpResponse<String> r = f.get();
                assertEquals(200, r.statusCode(), r.body());
                answers.add(JSON.readTree(r.body()));
            }

            // Each answer alone, by the static generator on the template's rendering (an independent path).
            try (var gen = new Generator(model.model(), model.params(), tok, client, 1, 112, new Buckets(List.of(96)), DType.F32)) {
                for (int i = 0; i < chats.size(); i++) {
                    String text = template.render(chats.get(i), true, ChatTemplate.tokenVariables(tok));
                    assertTrue(text.endsWith("<|im_start|>assistant\n"), text);
                    int[] prompt = tok.encode(text, Tokenizer.SpecialTokens.PARSE);
                    assertEquals(tok.encode("<|im_start|>", Tokenizer.SpecialTokens.PARSE)[0], prompt[0], "markup became control tokens");
                    Generator.Result alone = gen.generate(List.of(new Generator.Request(prompt, maxTokens[i], Sampling.GREEDY, List.of(),
                            null, 0, new int[] {imEnd}))).getFirst();
                    JsonNode a = answers.get(i);
                    assertEquals(prompt.length, a.get("usage").get("prompt_tokens").asInt(), "chat " + i + ": the template's tokens");
                    assertEquals(alone.tokens().length, a.get("usage").get("completion_tokens").asInt(), "chat " + i);
                    assertEquals(alone.text().strip(), a.get("choices").get(0).get("message").get("content").asText(), "chat " + i);
                }
            }

            assertTrue(answers.stream().anyMatch(a -> a.get("usage").get("completion_tokens").asInt() >= 3),
                    "some answers have several tokens, so the comparison says something: " + answers);

            // Streaming: the same text, chunk by chunk, ending with finish_reason and [DONE].
            var body = new java.util.LinkedHashMap<String, Object>(Map.of("messages", chats.get(2), "max_tokens", maxTokens[2],
                    "temperature", 0, "stream", true));
            List<String> lines = http.send(post(server, body), HttpResponse.BodyHandlers.ofLines()).body().filter(l -> l.startsWith("data: "))
                    .toList();
            assertEquals("data: [DONE]", lines.getLast());
            var streamed = new StringBuilder();
            String finish = null;
            for (String l : lines.subList(0, lines.size() - 1)) {
                JsonNode ch = JSON.readTree(l.substring(6)).get("choices").get(0);
                streamed.append(ch.path("delta").path("content").asText(""));
                if (!ch.path("finish_reason").isNull() && !ch.path("finish_reason").isMissingNode()) {
                    finish = ch.get("finish_reason").asText();
                }
            }
            assertEquals(answers.get(2).get("choices").get(0).get("message").get("content").asText(), streamed.toString().strip());
            assertEquals(answers.get(2).get("choices").get(0).get("finish_reason").asText(), finish);

            // A message without text is the client's error.
            var bad = http.send(post(server, Map.of("messages", List.of(Map.of("role", "user", "content", 5)))),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(400, bad.statusCode(), bad.body());

            String page = http.send(HttpRequest.newBuilder(server.uri().resolve("/")).build(), HttpResponse.BodyHandlers.ofString()).body();
            assertTrue(page.contains("data-format=\"template\""), "the chat page uses the template (system field, no feedback prefix)");
        }
    }

    private static HttpRequest post(LmServer server, Object body) throws Exception {
        return HttpRequest.newBuilder(server.uri().resolve("/v1/chat/completions"))
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))).build();
    }
}
