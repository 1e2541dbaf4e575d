package io.cohx.eval.human;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
 * The rating page in a real headless Chromium over WebDriver (chromedriver, spoken with
 * {@link HttpClient}, as coh's ChatPageBrowserTest does): a rater votes through the buttons,
 * the server is stopped and started again on the same database, the page resumes where the
 * rater left off, and the results page's table equals the hand count. Needs Debian's chromium
 * and chromium-driver ({@code tools/serve/install_browser.sh}); skipped, saying so, without them.
 */
class HumanEvalBrowserTest {
    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    static final Path DRIVER = Path.of("/usr/bin/chromedriver");
    static final ObjectMapper JSON = new ObjectMapper();
    static final String ELEMENT = "element-6066-11e4-a52e-4f735466cecf";
    final HttpClient http = HttpClient.newHttpClient();

    @Test
    void votesThroughThePageSurviveARestartAndTheResultsTableIsTheHandCount(@TempDir Path dir) throws Exception {
        assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(DRIVER),
                "chromium and chromedriver are not installed; run tools/serve/install_browser.sh to include this test");
        HumanItems items = HumanEvalServerTest.items(dir, 5);
        Path db = dir.resolve("votes.sqlite");
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Process driver = new ProcessBuilder(DRIVER.toString(), "--port=" + port).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        URI wd = URI.create("http://127.0.0.1:" + port);
        String id = null;
        try {
            waitForDriver(wd);
            JsonNode session = call("POST", wd.resolve("/session"), Map.of("capabilities", Map.of("alwaysMatch", Map.of(
                    "browserName", "chrome",
                    "goog:chromeOptions", Map.of("binary", CHROMIUM.toString(),
                            "args", List.of("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"))))));
            id = session.get("value").get("sessionId").asText();
            URI s = wd.resolve("/session/" + id + "/");
            int cohWins = 0;
            int sftWins = 0;
            int ties = 0;
            String[] buttons = {"#voteFirst", "#voteTie", "#voteSecond"};
            int pagePort;
            try (VoteStore store = VoteStore.open(db, items); HumanEvalServer server = HumanEvalServer.start(store, "127.0.0.1", 0)) {
                pagePort = server.uri().getPort();
                call("POST", s.resolve("url"), Map.of("url", server.uri().toString()));
                call("POST", s.resolve("element/" + element(s, "#rater") + "/value"), Map.of("text", "rater one"));
                call("POST", s.resolve("element/" + element(s, "#start") + "/click"), Map.of());
                for (int k = 0; k < 3; k++) {
                    int item = k + 1;
                    waitFor(s, "return document.getElementById('itemno').textContent === '#" + item + "';");
                    String first = script(s, "return document.getElementById('first').textContent;").asText();
                    String second = script(s, "return document.getElementById('second').textContent;").asText();
                    assertEquals(java.util.Set.of("alpha " + item, "beta " + item), java.util.Set.of(first, second),
                            "the two answers of item " + item + ", in either order, without model names");
                    String shown = k == 0 ? first : second;
                    if (k == 1) {
                        ties++;
                    } else if (shown.startsWith("alpha")) {
                        cohWins++;
                    } else {
                        sftWins++;
                    }
                    call("POST", s.resolve("element/" + element(s, buttons[k]) + "/click"), Map.of());
                }
                waitFor(s, "return document.getElementById('itemno').textContent === '#4';");
            }
            // Stopped; a new server process on the same database and address: the page remembers the
            // rater's name (local storage) and the server where they stopped.
            try (VoteStore store = VoteStore.open(db, items);
                 HumanEvalServer server = HumanEvalServer.start(store, "127.0.0.1", pagePort)) {
                call("POST", s.resolve("url"), Map.of("url", server.uri().toString()));
                waitFor(s, "return document.getElementById('itemno').textContent === '#4'"
                        + " && document.getElementById('status').textContent === '3 of 5 rated';");
                call("POST", s.resolve("url"), Map.of("url", server.uri().resolve("/results").toString()));
                JsonNode rows = script(s, "return [...document.querySelectorAll('#results tr')].slice(1)"
                        + ".map(r => [...r.cells].map(c => c.textContent));");
                assertEquals("coh", rows.get(0).get(0).asText());
                assertTrue(rows.get(0).get(1).asText().startsWith(String.format("%.1f%%", 100.0 * cohWins / 3)), rows.toString());
                assertTrue(rows.get(0).get(2).asText().startsWith(String.format("%.1f%%", 100.0 * ties / 3)), rows.toString());
                assertTrue(rows.get(0).get(3).asText().startsWith(String.format("%.1f%%", 100.0 * sftWins / 3)), rows.toString());
                assertEquals("sft", rows.get(1).get(0).asText());
                assertTrue(rows.get(1).get(1).asText().startsWith(String.format("%.1f%%", 100.0 * sftWins / 3)), rows.toString());
                assertTrue(script(s, "return document.getElementById('summary').textContent;").asText().startsWith("3 votes from 1 raters"));
            }
        } finally {
            if (id != null) {
                call("DELETE", wd.resolve("/session/" + id), null);
            }
            driver.destroy();
        }
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
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (script(s, condition).asBoolean()) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("the page never reached: " + condition + "; page text: "
                + script(s, "return document.body.innerText;").asText());
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
        if (r.statusCode() != 200) {
            throw new AssertionError("WebDriver " + method + " " + uri + " failed: " + r.body());
        }
        return JSON.readTree(r.body());
    }
}
