package io.cohx.eval;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PairSplitTest {
    static final ObjectMapper JSON = new ObjectMapper();

    static List<String> records() throws Exception {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            // records 2k and 2k+1 open the same conversation
            String opening = "\n\nHuman: question " + (i / 2) + "\n\nAssistant: ";
            out.add(JSON.writeValueAsString(Map.of("chosen", opening + "good " + i, "rejected", opening + "bad " + i)));
        }
        return out;
    }

    @Test
    void splitIsDeterministicDisjointKeepsConversationsTogetherAndIgnoresFileOrder(@TempDir Path dir) throws Exception {
        List<String> recs = records();
        Path in = dir.resolve("hh.jsonl");
        Files.write(in, recs);
        PairSplit.Result a = PairSplit.split(in, 20, 0, dir.resolve("a"));
        PairSplit.Result again = PairSplit.split(in, 20, 0, dir.resolve("again"));
        assertEquals(Files.readAllLines(a.heldOut()), Files.readAllLines(again.heldOut()));
        assertEquals(20, a.heldOutRecords(), "whole groups of two fill 20 exactly");
        assertEquals(80, a.trainRecords());
        Set<String> held = new HashSet<>(Files.readAllLines(a.heldOut()));
        Set<String> train = new HashSet<>(Files.readAllLines(a.train()));
        assertTrue(Collections.disjoint(held, train));
        assertEquals(new HashSet<>(recs), union(held, train), "every record once, verbatim");
        for (int k = 0; k < 50; k++) {
            assertEquals(held.contains(recs.get(2 * k)), held.contains(recs.get(2 * k + 1)), "conversation " + k + " is on one side");
        }
        List<String> shuffled = new ArrayList<>(recs);
        Collections.shuffle(shuffled, new Random(3));
        Path in2 = dir.resolve("shuffled.jsonl");
        Files.write(in2, shuffled);
        assertEquals(held, new HashSet<>(Files.readAllLines(PairSplit.split(in2, 20, 0, dir.resolve("b")).heldOut())));
        assertNotEquals(held, new HashSet<>(Files.readAllLines(PairSplit.split(in, 20, 1, dir.resolve("c")).heldOut())));
        assertTrue(Files.readString(dir.resolve("a/split.json")).contains("\"held_out\" : 20"));
        var e = assertThrows(EvalException.class, () -> PairSplit.split(in, 100, 0, dir.resolve("d")));
        assertTrue(e.getMessage().contains("--held-out 100"), e.getMessage());
    }

    static Set<String> union(Set<String> a, Set<String> b) {
        Set<String> u = new HashSet<>(a);
        u.addAll(b);
        return u;
    }
}
