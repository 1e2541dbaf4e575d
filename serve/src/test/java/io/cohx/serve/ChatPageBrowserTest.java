package io.cohx.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cohx.models.tokenizer.Tokenizers;
import io.cohx.pjrt.PjrtClient;
import io.cohx.pjrt.testing.TestPlugins;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The chat page in a real headless Chromium, driven over the W3C WebDriver protocol (chromedriver,
 * spoken with {@link HttpClient}: no Selenium): type a message, send it, and watch the answer's
 * text grow event by event; then stop a long answer with the Stop button and see the server cancel
 * it. Needs Debian's {@code chromium} and {@code chromium-driver}
 * ({@code tools/serve/install_browser.sh}); skipped, saying so, when they are not installed.
 */
class ChatPageBrowserTest {
    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    static final Path DRIVER = Path.of("/usr/bin/chromedriver");
    static final ObjectMapper JSON = new ObjectMapper();
    static final String ELEMENT = "element-6066-11e4-a52e-4f735466cecf";
    final HttpClient http = HttpClient.newHttpClient();

    @Test
    void typingAMessageStreamsTheAnswerIntoThePage() throws Exception {
        assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(DRIVER),
                "chromium and chromedriver are not installed; run tools/serve/install_browser.sh to include this test");
        PjrtClient client = TestPlugins.cpuClient(1);
        TestModel model = TestModel.random("llama", "debug",
                "hidden_size=64,intermediate_size=128,num_hidden_layers=2,num_attention_heads=2,vocab_size=50257", 1, client);
        ServeOptions o = ServeOptions.defaults().withLengths(64, 256, 2).withServer(0, 8, List.of("none"));
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Process driver = new ProcessBuilder(DRIVER.toString(), "--port=" + port).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try (LmServer server = LmServer.start(model.model(), model.params(), Tokenizers.load("gpt2"), client, o, System.out)) {
            URI wd = URI.create("http://127.0.0.1:" + port);
            waitForDriver(wd);
            JsonNode session = call("POST", wd.resolve("/session"), Map.of("capabilities", Map.of("alwaysMatch", Map.of(
                    "browserName", "chrome",
                    "goog:chromeOptions", Map.of("binary", CHROMIUM.toString(),
                            "args", List.of("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"))))));
            String id = session.get("value").get("sessionId").asText();
            URI s = wd.resolve("/session/" + id + "/");
            try {
                call("POST", s.resolve("url"), Map.of("url", server.uri() + "/"));
                assertEquals("A helpful answer:", script(s, "return document.getElementById('prefix').value;").asText(),
                        "the CoH feedback prefix is shown, editable");
                // Record the answer's length at every change the page makes while tokens stream in.
                script(s, "window.__lens = []; new MutationObserver(() => { const b = document.querySelector('.assistant .body');"
                        + " if (b) window.__lens.push(b.textContent.length); }).observe(document.getElementById('log'),"
                        + " {subtree: true, childList: true, characterData: true});");
                script(s, "document.getElementById('temperature').value = '0'; document.getElementById('maxTokens').value = '24';");
                String input = element(s, "#input");
                call("POST", s.resolve("element/" + input + "/value"), Map.of("text", "How do I boil an egg?"));
                call("POST", s.resolve("element/" + element(s, "#send") + "/click"), Map.of());
                waitFor(s, "return document.getElementById('send').disabled === false && document.querySelectorAll('.assistant').length === 1"
                        + " && document.querySelector('.assistant .body').textContent.length > 0;");
                assertEquals("How do I boil an egg?", script(s, "return document.querySelector('.user .body').textContent;").asText());
                JsonNode lens = script(s, "return window.__lens;");
                long distinct = java.util.stream.StreamSupport.stream(lens.spliterator(), false).mapToInt(JsonNode::asInt)
                        .filter(n -> n > 0).distinct().count();
                assertTrue(distinct >= 3, "the answer grew piece by piece as tokens streamed in: " + lens);

                // A long answer, stopped with the Stop button: the page frees itself and the server cancels the row.
                script(s, "document.getElementById('maxTokens').value = '180';");
                call("POST", s.resolve("element/" + input + "/value"), Map.of("text", "Tell me a long story."));
                call("POST", s.resolve("element/" + element(s, "#send") + "/click"), Map.of());
                waitFor(s, "const b = document.querySelectorAll('.assistant .body'); return b.length === 2 && b[1].textContent.length > 0;");
                call("POST", s.resolve("element/" + element(s, "#stop") + "/click"), Map.of());
                waitFor(s, "return document.getElementById('send').disabled === false;");
                waitForCancel(server);
            } finally {
                call("DELETE", wd.resolve("/session/" + id), null);
            }
        } finally {
            driver.destroy();
            model.close();
        }
    }

    private void waitForCancel(LmServer server) throws Exception {
        long deadline = System.nanoTime() + 30_000_000_000L;
        String m = "";
        while (System.nanoTime() < deadline) {
            m = http.send(HttpRequest.newBuilder(server.uri().resolve("/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
            if (m.contains("cohx_cancelled_rows_total 1")) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the stopped answer was not cancelled on the server:\n" + m);
    }

    private void waitForDriver(URI wd) throws Exception {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (System.nanoTime() < deadline) {
            try {
                if (call("GET", wd.resolve("/status"), null).get("value").get("ready").asBoolean()) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(100);
        }
        throw new AssertionError("chromedriver did not start within 20 s");
    }

    private void waitFor(URI s, String condition) throws Exception {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (script(s, condition).asBoolean()) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("the page never reached: " + condition);
    }

    private String element(URI s, String css) throws Exception {
        return call("POST", s.resolve("element"), Map.of("using", "css selector", "value", css)).get("value").get(ELEMENT).asText();
    }

    private JsonNode script(URI s, String js) throws Exception {
        return call("POST", s.resolve("execute/sync"), Map.of("script", js, "args", List.of())).get("value");
    }

    private JsonNode call(String method, URI uri, Object body) throws Exception {
        var b = HttpRequest.newBuilder(uri).header("Content-Type", "application/json");
        b = body == null ? b.method(method, HttpRequest.BodyPublishers.noBody())
                : b.method(method, HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)));
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        JsonNode n = JSON.readTree(r.body());
        if (r.statusCode() != 200) {
            throw new AssertionError("WebDriver " + method + " " + uri + " failed: " + r.body());
        }
        return n;
    }
}
