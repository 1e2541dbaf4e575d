package io.cohx.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.cohx.models.tokenizer.Tokenizer;
import io.cohx.models.tokenizer.Tokenizers;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.zip.GZIPInputStream;

/**
 * Encode throughput of cohx's tokenizers, one JSON line per measurement (MB/s of UTF-8 input,
 * single-threaded and on N threads). Usage:
 * {@code TokenizerBench CORPUS.jsonl[.gz] THREADS SECONDS NAME=SPEC...} where SPEC is anything
 * {@link Tokenizers#load(String)} takes. The corpus is JSON lines of strings (the golden corpus
 * works; its first line, a header object, is skipped). bench/tokenizers.sh runs this next to the
 * Python reference libraries on the same corpus.
 */
public final class TokenizerBench {

    private TokenizerBench() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 4) {
            System.err.println("usage: TokenizerBench CORPUS.jsonl[.gz] THREADS SECONDS NAME=SPEC...");
            System.exit(2);
        }
        List<String> corpus = readCorpus(Path.of(args[0]));
        int threads = Integer.parseInt(args[1]);
        double seconds = Double.parseDouble(args[2]);
        long bytes = 0;
        for (String s : corpus) bytes += s.getBytes(StandardCharsets.UTF_8).length;
        for (int a = 3; a < args.length; a++) {
            String[] nameSpec = args[a].split("=", 2);
            Tokenizer tok = Tokenizers.load(nameSpec[1]);
            long tokens = 0;
            for (String s : corpus) tokens += tok.encode(s).length;
            measure(nameSpec[0], "single", 1, corpus, bytes, tokens, seconds, () -> {
                for (String s : corpus) tok.encode(s);
            });
            try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
                int chunk = (corpus.size() + threads - 1) / threads;
                measure(nameSpec[0], "multi", threads, corpus, bytes, tokens, seconds, () -> {
                    var futures = new ArrayList<Future<?>>();
                    for (int t = 0; t < threads; t++) {
                        var part = corpus.subList(Math.min(corpus.size(), t * chunk), Math.min(corpus.size(), (t + 1) * chunk));
                        futures.add(pool.submit(() -> {
                            for (String s : part) tok.encode(s);
                        }));
                    }
                    for (var f : futures) f.get();
                });
            }
        }
    }

    @FunctionalInterface
    private interface Pass {
        void run() throws Exception;
    }

    private static void measure(String name, String mode, int threads, List<String> corpus, long bytes, long tokens,
            double seconds, Pass pass) throws Exception {
        long warmEnd = System.nanoTime() + (long) (seconds * 0.5e9);
        while (System.nanoTime() < warmEnd) pass.run();
        int passes = 0;
        long start = System.nanoTime();
        long end = start + (long) (seconds * 1e9);
        do {
            pass.run();
            passes++;
        } while (System.nanoTime() < end);
        double elapsed = (System.nanoTime() - start) / 1e9;
        double mbs = bytes * (double) passes / elapsed / 1e6;
        System.out.printf("{\"bench\":\"tokenizer_encode\",\"impl\":\"cohx-java\",\"tokenizer\":\"%s\",\"mode\":\"%s\","
                + "\"threads\":%d,\"texts\":%d,\"bytes\":%d,\"tokens\":%d,\"passes\":%d,\"seconds\":%.3f,"
                + "\"mb_per_s\":%.2f,\"tokens_per_s\":%.0f}%n",
                name, mode, threads, corpus.size(), bytes, tokens, passes, elapsed, mbs, tokens * (double) passes / elapsed);
    }

    private static List<String> readCorpus(Path file) throws IOException {
        var json = new ObjectMapper();
        var out = new ArrayList<String>();
        var in = Files.newInputStream(file);
        try (var r = new BufferedReader(new InputStreamReader(
                file.toString().endsWith(".gz") ? new GZIPInputStream(in) : in, StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                var node = json.readTree(line);
                if (node.isTextual()) out.add(node.asText());
            }
        }
        return out;
    }
}
