package io.cohx.models.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;

/** The corpus and golden files written by tools/reference/tokenizer_golden.py. */
final class Golden {

    /**
     * A corpus string with its reference ids and reference decode of those ids; {@code parsed}
     * and {@code parsedDecoded} are the ids with special tokens parsed and their decode (null
     * when the file does not say; equal to ids when parsing changes nothing). {@code ids} is null
     * in parse-only rows.
     */
    record Encoded(int index, String text, int[] ids, String decoded, int[] parsed, String parsedDecoded) {}

    /** A random id sequence with the reference's decode. */
    record Decoded(int[] ids, String decoded) {}

    record File(List<Encoded> encoded, List<Decoded> decoded) {}

    private static final ObjectMapper JSON = new ObjectMapper();
    private static List<String> corpus;
    private static List<String> specialCorpus;

    private Golden() {}

    static synchronized List<String> corpus() throws IOException {
        if (corpus == null) {
            var out = new ArrayList<String>();
            for (JsonNode n : lines("/tokenizer/corpus.jsonl.gz")) out.add(n.asText());
            corpus = out;
        }
        return corpus;
    }

    /** Strings full of special and added tokens (chat markup, partial tokens), for the parse goldens. */
    static synchronized List<String> specialCorpus() throws IOException {
        if (specialCorpus == null) {
            var out = new ArrayList<String>();
            for (JsonNode n : lines("/tokenizer/corpus-special.jsonl.gz")) out.add(n.asText());
            specialCorpus = out;
        }
        return specialCorpus;
    }

    /** {@code golden-NAME.jsonl.gz}; {@code parse-only} files are {@code golden-parse-NAME}. */
    static File load(String name) throws IOException {
        List<String> texts = corpus();
        List<String> special = specialCorpus();
        var enc = new ArrayList<Encoded>();
        var dec = new ArrayList<Decoded>();
        for (JsonNode n : lines("/tokenizer/golden-" + name + ".jsonl.gz")) {
            if (n.has("i") || n.has("s")) {
                int i = n.has("i") ? n.get("i").asInt() : n.get("s").asInt();
                String text = n.has("i") ? texts.get(i) : special.get(i);
                int[] ids = n.has("ids") ? ids(n.get("ids")) : null;
                String d = n.has("dec") ? n.get("dec").asText() : text;
                int[] parsed = n.has("p") ? ids(n.get("p")) : ids;
                String pd = n.has("pdec") ? n.get("pdec").asText() : d;
                enc.add(new Encoded(n.has("i") ? i : -1 - i, text, ids, d, parsed, pd));
            } else {
                dec.add(new Decoded(ids(n.get("decode")), n.get("dec").asText()));
            }
        }
        return new File(enc, dec);
    }

    private static int[] ids(JsonNode arr) {
        int[] out = new int[arr.size()];
        for (int i = 0; i < out.length; i++) out[i] = arr.get(i).asInt();
        return out;
    }

    /** The JSON lines of a gzipped resource, without its header line. */
    private static List<JsonNode> lines(String resource) throws IOException {
        var in = Golden.class.getResourceAsStream(resource);
        if (in == null) throw new IOException("test resource " + resource + " missing; run tools/reference/tokenizer_golden.py");
        var out = new ArrayList<JsonNode>();
        try (var r = new BufferedReader(new InputStreamReader(new GZIPInputStream(in), StandardCharsets.UTF_8))) {
            r.readLine(); // header: how the file was made
            String line;
            while ((line = r.readLine()) != null) out.add(JSON.readTree(line));
        }
        return out;
    }
}
