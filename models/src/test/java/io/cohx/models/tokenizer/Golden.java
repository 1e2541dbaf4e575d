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

    /** A corpus string with its reference ids and reference decode of those ids. */
    record Encoded(int index, String text, int[] ids, String decoded) {}

    /** A random id sequence with the reference's decode. */
    record Decoded(int[] ids, String decoded) {}

    record File(List<Encoded> encoded, List<Decoded> decoded) {}

    private static final ObjectMapper JSON = new ObjectMapper();
    private static List<String> corpus;

    private Golden() {}

    static synchronized List<String> corpus() throws IOException {
        if (corpus == null) {
            var out = new ArrayList<String>();
            for (JsonNode n : lines("/tokenizer/corpus.jsonl.gz")) out.add(n.asText());
            corpus = out;
        }
        return corpus;
    }

    static File load(String name) throws IOException {
        List<String> texts = corpus();
        var enc = new ArrayList<Encoded>();
        var dec = new ArrayList<Decoded>();
        for (JsonNode n : lines("/tokenizer/golden-" + name + ".jsonl.gz")) {
            if (n.has("i")) {
                int i = n.get("i").asInt();
                String text = texts.get(i);
                enc.add(new Encoded(i, text, ids(n.get("ids")), n.has("dec") ? n.get("dec").asText() : text));
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
