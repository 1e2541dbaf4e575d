package io.cohx.cli;

import org.junit.jupiter.api.Test;

import java.util.List;

import static io.cohx.cli.PluginsCommandTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code cohx generate} and {@code cohx serve}'s option checks through the real command line. */
class GenerateCommandTest {
    static final String TINY = "hidden_size=32,intermediate_size=64,num_hidden_layers=1,num_attention_heads=2,vocab_size=50257";

    @Test
    void generatesStopsAtAStopStringAndIsDeterministicWhenGreedy() {
        var a = run("generate", "--prompt", "User: Hello A helpful answer:", "--max-new-tokens", "6", "--update-model-config", TINY,
                "--tokenizer", "gpt2");
        assertEquals(0, a.rc(), a.out() + a.err());
        String text = a.out().strip();
        assertFalse(text.isEmpty(), "some text was printed");
        var b = run("generate", "--prompt", "User: Hello A helpful answer:", "--max-new-tokens", "6", "--update-model-config", TINY,
                "--tokenizer", "gpt2");
        assertEquals(a.out(), b.out(), "greedy decoding is deterministic");
        String stop = text.substring(text.length() / 2, text.length() / 2 + 1);
        var c = run("generate", "--prompt", "User: Hello A helpful answer:", "--max-new-tokens", "6", "--update-model-config", TINY,
                "--tokenizer", "gpt2", "--stop", stop);
        assertEquals(0, c.rc(), c.err());
        assertTrue(a.out().startsWith(c.out().stripTrailing()) && !c.out().strip().contains(stop), c.out() + " vs " + a.out());
    }

    @Test
    void badValuesNameTheFlag() {
        var t = run("generate", "--prompt", "x", "--temperature", "-1", "--tokenizer", "gpt2");
        assertEquals(2, t.rc());
        assertTrue(t.err().contains("--temperature"), t.err());
        var s = run("serve", "--input-length", "16", "--seq-length", "8");
        assertEquals(2, s.rc());
        assertTrue(s.err().contains("--seq-length (8) must be greater than --input-length (16)"), s.err());
        var l = run("generate", "--prompt", "x", "--model", "llama");
        assertEquals(2, l.rc());
        assertTrue(l.err().contains("--tokenizer is required for llama"), l.err());
        var c = run("serve", "--port", "0", "--chat-template", "nope", "--update-model-config", TINY, "--tokenizer", "gpt2",
                "--pre-compile", "none", "--no-compile-cache");
        assertEquals(2, c.rc(), c.out() + c.err());
        assertTrue(c.err().contains("--chat-template") && c.err().contains("nope") && c.err().contains("chatml"), c.err());
    }

    @Test
    void serveFinishesTheRequestsInFlightOnSigtermAndExitsZero() throws Exception {
        String javaBin = java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString();
        var pb = new ProcessBuilder(javaBin, "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                "io.cohx.cli.Main", "serve", "--port", "0", "--tokenizer", "gpt2", "--update-model-config", TINY, "--input-length", "16",
                "--seq-length", "256", "--batch-size", "2", "--pre-compile", "generate", "--no-compile-cache").redirectErrorStream(true);
        pb.environment().put("PJRT_NPROC", "16");
        Process p = pb.start();
        var out = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(), java.nio.charset.StandardCharsets.UTF_8));
        var seen = new StringBuilder();
        java.net.URI uri = null;
        for (String l; uri == null && (l = out.readLine()) != null; ) {
            seen.append(l).append('\n');
            int at = l.indexOf("listening on ");
            if (at >= 0) {
                uri = java.net.URI.create(l.substring(at + 13).split("\\s+")[0]);
            }
        }
        try {
            assertTrue(uri != null, seen.toString());
            var http = java.net.http.HttpClient.newHttpClient();
            http.send(java.net.http.HttpRequest.newBuilder(uri.resolve("/ready")).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
            var events = new java.util.concurrent.LinkedBlockingQueue<String>();
            var stream = http.sendAsync(java.net.http.HttpRequest.newBuilder(uri.resolve("/v1/completions"))
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"prompt\": \"Once\", \"max_tokens\": 200, \"temperature\": 1,"
                            + " \"seed\": 1, \"stream\": true, \"logprobs\": 0}")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofLines()).thenAccept(r -> r.body().forEach(events::add));
            String first = events.poll(120, java.util.concurrent.TimeUnit.SECONDS);
            assertTrue(first != null && first.startsWith("data: "), "the stream started: " + first);
            p.toHandle().destroy(); // SIGTERM while the request is in flight
            stream.get(120, java.util.concurrent.TimeUnit.SECONDS);
            List<String> rest = new java.util.ArrayList<>(events);
            assertEquals("data: [DONE]", rest.stream().filter(l -> l.startsWith("data: ")).reduce((a, b) -> b).orElse(""),
                    "the request in flight was finished, not cut: " + rest.size() + " lines");
            assertTrue(p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS), "stopped in time");
            String tail = String.join("\n", out.lines().toList());
            assertEquals(0, p.exitValue(), seen + tail);
            assertTrue(tail.contains("cohx serve: stopped"), seen + tail);
        } finally {
            p.destroyForcibly();
        }
    }

    @Test
    void chatRendersTheTemplateAndNamesWhatIsMissing() {
        var a = run("generate", "--chat", "--chat-template", "zephyr", "--system", "Be brief.", "--prompt", "Hello",
                "--max-new-tokens", "3", "--update-model-config", TINY, "--tokenizer", "gpt2");
        assertEquals(0, a.rc(), a.out() + a.err());
        var none = run("generate", "--chat", "--prompt", "Hello", "--update-model-config", TINY, "--tokenizer", "gpt2");
        assertEquals(2, none.rc());
        assertTrue(none.err().contains("no chat template") && none.err().contains("llama3"), none.err());
        var bad = run("generate", "--chat", "--chat-template", "nope", "--prompt", "Hello", "--update-model-config", TINY,
                "--tokenizer", "gpt2");
        assertEquals(2, bad.rc());
        assertTrue(bad.err().contains("nope") && bad.err().contains("chatml"), bad.err());
        var sys = run("generate", "--system", "x", "--prompt", "Hello", "--tokenizer", "gpt2");
        assertEquals(2, sys.rc());
        assertTrue(sys.err().contains("--system needs --chat"), sys.err());
    }
}
