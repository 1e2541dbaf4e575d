package io.cohx.cli;

import org.junit.jupiter.api.Test;

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
