package io.cohx.coh.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Hub download path against a real HTTP server on 127.0.0.1 that answers the Hub's tree
 * listing (paged, as the Hub does) and raw "resolve" downloads from fixture files.
 */
class HubDatasetsTest {

    @TempDir
    Path tmp;

    private HttpServer server;
    private final Map<String, byte[]> files = new ConcurrentHashMap<>();
    private final AtomicInteger downloads = new AtomicInteger();
    private String endpoint;

    @BeforeEach
    void start() throws IOException {
        files.put("helpful-base/train.jsonl.gz", Files.readAllBytes(PackJobTest.resource("fixtures/dialogue/more-train.jsonl.gz")));
        files.put("helpful-base/test.jsonl.gz", gzip(Files.readAllBytes(PackJobTest.resource("fixtures/dialogue/train.jsonl"))));
        files.put("red-team-attempts/red_team_attempts.jsonl.gz", gzip("{\"transcript\": \"other format\"}\n".getBytes()));
        files.put("README.md", "# card".getBytes());
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        String repo = "/datasets/Anthropic/hh-rlhf/resolve/main/";
        server.createContext("/", exchange -> {
            String path = exchange.getRequestURI().getPath();
            String query = exchange.getRequestURI().getQuery();
            byte[] body;
            int code = 200;
            if (path.equals("/api/datasets/Anthropic/hh-rlhf/tree/main")) {
                // Two pages, linked the way the Hub pages long listings.
                boolean second = query != null && query.contains("cursor=2");
                var names = files.keySet().stream().sorted().toList();
                var page = second ? names.subList(2, names.size()) : names.subList(0, 2);
                var json = new StringBuilder("[");
                for (String n : page) {
                    json.append(json.length() > 1 ? "," : "").append("{\"type\":\"file\",\"path\":\"").append(n)
                            .append("\",\"size\":").append(files.get(n).length).append('}');
                }
                if (!second) {
                    json.append(",{\"type\":\"directory\",\"path\":\"helpful-base\"}");
                    exchange.getResponseHeaders().add("Link", "<" + endpoint + path + "?recursive=true&cursor=2>; rel=\"next\"");
                }
                body = json.append(']').toString().getBytes(StandardCharsets.UTF_8);
            } else if (path.startsWith(repo) && files.containsKey(path.substring(repo.length()))) {
                downloads.incrementAndGet();
                body = files.get(path.substring(repo.length()));
            } else {
                code = 404;
                body = "{\"error\":\"not found\"}".getBytes();
            }
            exchange.sendResponseHeaders(code, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        endpoint = "http://127.0.0.1:" + server.getAddress().getPort();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private static byte[] gzip(byte[] data) throws IOException {
        var out = new ByteArrayOutputStream();
        try (var gz = new GZIPOutputStream(out)) {
            gz.write(data);
        }
        return out.toByteArray();
    }

    @Test
    void downloadsTheDialogueFilesAndPacksThemLikeLocalOnes() throws IOException {
        var log = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        var hub = new HubDatasets(endpoint, "main", tmp.resolve("cache"), log);
        var fetched = hub.fetch(FeedbackDataset.DIALOGUE);
        assertEquals(2, fetched.size(), "red-team attempts and the card are not comparison data: " + fetched);
        assertEquals(Split.EVAL, fetched.get(0).split());
        assertEquals(Split.TRAIN, fetched.get(1).split());
        assertArrayEquals(files.get("helpful-base/train.jsonl.gz"), Files.readAllBytes(fetched.get(1).path()));
        assertEquals(2, downloads.get());

        var opts = PackOptions.defaults().withFeedback("p,n");
        var viaHub = new PackJob(new PackJob.Request(List.of(FeedbackDataset.DIALOGUE), Map.of(), opts, tmp.resolve("hub"),
                false, hub), log).run();
        assertEquals(2, downloads.get(), "the second fetch is served from the cache");
        var local = Map.of(FeedbackDataset.DIALOGUE, List.of(
                new InputFile(PackJobTest.resource("fixtures/dialogue/more-train.jsonl.gz"), Split.TRAIN),
                new InputFile(PackJobTest.resource("fixtures/dialogue/train.jsonl"), Split.EVAL)));
        new PackJob(new PackJob.Request(List.of(FeedbackDataset.DIALOGUE), local, opts, tmp.resolve("local"), false, null),
                log).run();
        for (String f : List.of("hh_dialogue_train_p,n.jsonl", "hh_dialogue_eval_p,n.jsonl", "train_p,n_shuffled.jsonl")) {
            assertArrayEquals(Files.readAllBytes(tmp.resolve("local").resolve(f)), Files.readAllBytes(tmp.resolve("hub").resolve(f)), f);
        }
        assertEquals(2, viaHub.get(FeedbackDataset.DIALOGUE, Split.TRAIN).records());
    }

    @Test
    void unknownRepositoryAndUnreachableHubAreClearErrors() throws IOException {
        var log = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        var hub = new HubDatasets(endpoint, "main", tmp.resolve("cache"), log);
        var e = assertThrows(DataException.class, () -> hub.fetch(FeedbackDataset.WEBGPT));
        assertTrue(e.getMessage().contains("HTTP 404") && e.getMessage().contains("openai/webgpt_comparisons"), e.getMessage());

        int port;
        try (var probe = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort();
        }
        var down = new HubDatasets("http://127.0.0.1:" + port, "main", tmp.resolve("cache"), log);
        e = assertThrows(DataException.class, () -> down.fetch(FeedbackDataset.DIALOGUE));
        assertTrue(e.getMessage().startsWith("cannot reach the Hugging Face Hub at http://127.0.0.1:" + port), e.getMessage());
        assertTrue(e.getMessage().contains("--input"), e.getMessage());
    }

    @Test
    void endpointPrecedenceIsFlagThenEnvironment() {
        assertEquals("http://mirror.local", HubDatasets.endpoint("http://mirror.local"));
        assertEquals("http://x/api?cursor=2", HubDatasets.nextLink("<http://x/api?cursor=2>; rel=\"next\""));
    }
}
