package io.cohx.eval.human;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cohx.eval.EvalException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The human-evaluation server over real HTTP and a real SQLite file: concurrency, restarts, bad input. */
class HumanEvalServerTest {
    static final ObjectMapper JSON = new ObjectMapper();
    final HttpClient http = HttpClient.newHttpClient();

    /** Two output files for {@code n} prompts: model A answers "alpha i", model B "beta i". */
    static HumanItems items(Path dir, int n) throws Exception {
        var a = new StringBuilder();
        var b = new StringBuilder();
        for (int i = 1; i <= n; i++) {
            a.append(JSON.writeValueAsString(Map.of("prompt", "Question " + i + "?", "output", "alpha " + i))).append('\n');
            b.append(JSON.writeValueAsString(Map.of("prompt", "Question " + i + "?", "output", "beta " + i))).append('\n');
        }
        Files.writeString(dir.resolve("coh.jsonl"), a);
        Files.writeString(dir.resolve("sft.jsonl"), b);
        return HumanItems.read(dir.resolve("coh.jsonl"), "coh", dir.resolve("sft.jsonl"), "sft");
    }

    HttpResponse<String> post(URI base, Object body) throws Exception {
        String s = body instanceof String str ? str : JSON.writeValueAsString(body);
        return http.send(HttpRequest.newBuilder(base.resolve("/api/vote")).POST(HttpRequest.BodyPublishers.ofString(s)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    JsonNode get(URI base, String path) throws Exception {
        return JSON.readTree(http.send(HttpRequest.newBuilder(base.resolve(path)).build(), HttpResponse.BodyHandlers.ofString()).body());
    }

    @Test
    void twoRatersVotingAtOnceLoseNoVoteAndTheVotesSurviveARestart(@TempDir Path dir) throws Exception {
        int n = 30;
        HumanItems items = items(dir, n);
        Path db = dir.resolve("votes.sqlite");
        long aWins = 0;
        long bWins = 0;
        long ties = 0;
        try (VoteStore store = VoteStore.open(db, items); HumanEvalServer server = HumanEvalServer.start(store, "127.0.0.1", 0)) {
            List<CompletableFuture<HttpResponse<String>>> sent = new ArrayList<>();
            String[] choices = {"first", "tie", "second"};
            for (int item = 1; item <= n; item++) {
                for (String rater : List.of("ann", "bob")) {
                    String choice = choices[(item + rater.length() * (rater.equals("bob") ? 1 : 0)) % 3];
                    String first = store.firstFor(rater, item);
                    switch (choice) {
                        case "tie" -> ties++;
                        case "first" -> { if (first.equals("a")) aWins++; else bWins++; }
                        default -> { if (first.equals("a")) bWins++; else aWins++; }
                    }
                    String body = JSON.writeValueAsString(Map.of("rater", rater, "item", item, "choice", choice));
                    sent.add(http.sendAsync(HttpRequest.newBuilder(server.uri().resolve("/api/vote"))
                            .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString()));
                }
            }
            for (var f : sent) {
                assertEquals(200, f.get().statusCode(), f.get().body());
            }
            assertTrue(get(server.uri(), "/api/next?rater=ann").get("done").asBoolean());
            assertEquals(2 * n, store.votes().size());
            // Blinding: both orders occur, and a rater's order is stable.
            long aFirst = java.util.stream.IntStream.rangeClosed(1, n).filter(i -> store.firstFor("ann", i).equals("a")).count();
            assertTrue(aFirst > 0 && aFirst < n, "model A shown first on " + aFirst + " of " + n);
        }
        // A new process on the same file: the votes are there, and the tally is the hand count.
        try (VoteStore store = VoteStore.open(db, items(dir, n)); HumanEvalServer server = HumanEvalServer.start(store, "127.0.0.1", 0)) {
            JsonNode r = get(server.uri(), "/api/results");
            assertEquals(2 * n, r.get("votes").asInt());
            JsonNode coh = r.get("models").get(0);
            assertEquals("coh", coh.get("model").asText());
            assertEquals((double) aWins / (2 * n), coh.get("win").get("value").asDouble(), 1e-12);
            assertEquals((double) ties / (2 * n), coh.get("tie").get("value").asDouble(), 1e-12);
            assertEquals((double) bWins / (2 * n), coh.get("loss").get("value").asDouble(), 1e-12);
            assertEquals(coh.get("loss").get("value").asDouble(), r.get("models").get(1).get("win").get("value").asDouble(), 1e-12);
            String csv = http.send(HttpRequest.newBuilder(server.uri().resolve("/votes.csv")).build(), HttpResponse.BodyHandlers.ofString()).body();
            assertEquals(2 * n + 1, csv.strip().split("\n").length);
            String table = HumanResults.of(store).csv();
            assertTrue(table.startsWith("model,votes,win,") && table.contains("\ncoh," + (2 * n) + "," + ((double) aWins / (2 * n))), table);
        }
    }

    @Test
    void badRequestsGetClearErrors(@TempDir Path dir) throws Exception {
        HumanItems items = items(dir, 3);
        try (VoteStore store = VoteStore.open(dir.resolve("v.sqlite"), items);
             HumanEvalServer server = HumanEvalServer.start(store, "127.0.0.1", 0)) {
            URI u = server.uri();
            var r = post(u, Map.of("rater", "ann", "item", 9, "choice", "first"));
            assertEquals(404, r.statusCode());
            assertTrue(r.body().contains("unknown item 9; items are 1..3"), r.body());
            assertEquals(200, post(u, Map.of("rater", "ann", "item", 2, "choice", "tie")).statusCode());
            r = post(u, Map.of("rater", "ann", "item", 2, "choice", "first"));
            assertEquals(409, r.statusCode());
            assertTrue(r.body().contains("'ann' has already voted on item 2"), r.body());
            r = post(u, "{not json");
            assertEquals(400, r.statusCode());
            assertTrue(r.body().contains("not JSON"), r.body());
            r = post(u, Map.of("rater", "ann", "item", 1, "choice", "A"));
            assertEquals(400, r.statusCode());
            assertTrue(r.body().contains("'choice' must be"), r.body());
            r = post(u, Map.of("rater", "", "item", 1, "choice", "tie"));
            assertEquals(400, r.statusCode());
            assertEquals(1, store.votes().size(), "only the one good vote is stored");
        }
    }

    @Test
    void malformedOrMismatchedOutputFilesAreRejectedWithFileAndLine(@TempDir Path dir) throws Exception {
        items(dir, 3);
        Path a = dir.resolve("coh.jsonl");
        Path b = dir.resolve("sft.jsonl");
        List<String> lines = new ArrayList<>(Files.readAllLines(b));
        lines.set(1, "{oops");
        Files.write(b, lines);
        var e = assertThrows(EvalException.class, () -> HumanItems.read(a, "coh", b, "sft"));
        assertTrue(e.getMessage().contains("sft.jsonl:2: malformed JSON"), e.getMessage());
        Files.writeString(b, Files.readString(a).replace("Question 3?", "Another question?"));
        e = assertThrows(EvalException.class, () -> HumanItems.read(a, "coh", b, "sft"));
        assertTrue(e.getMessage().contains("sft.jsonl:3: the prompt differs"), e.getMessage());
        Files.writeString(b, "{\"prompt\": \"Question 1?\"}\n");
        e = assertThrows(EvalException.class, () -> HumanItems.read(a, "coh", b, "sft"));
        assertTrue(e.getMessage().contains("has 3 outputs but"), e.getMessage());
        // A database made for other outputs refuses these.
        HumanItems three = items(dir, 3);
        try (VoteStore s = VoteStore.open(dir.resolve("x.sqlite"), three)) {
            assertEquals(3, s.itemCount());
        }
        e = assertThrows(EvalException.class, () -> VoteStore.open(dir.resolve("x.sqlite"), items(dir, 4)));
        assertTrue(e.getMessage().contains("holds votes on other outputs"), e.getMessage());
    }
}
