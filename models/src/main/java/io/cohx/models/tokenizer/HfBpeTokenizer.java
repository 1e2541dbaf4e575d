package io.cohx.models.tokenizer;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A Hugging Face {@code tokenizer.json} with a BPE model, run as the reference library runs it:
 * added tokens are cut out of the raw text first (special ones only with
 * {@link SpecialTokens#PARSE}), the rest is normalized, pre-tokenized into words, and each word
 * goes through {@link BpeModel}; decoding runs the file's decoder chain. Covers byte-level BPE
 * (GPT-2, Llama 3, Qwen 2/3, SmolLM, with their pre-tokenizer regexes) and LLaMA-style
 * byte-fallback BPE (Llama 2, Mistral, TinyLlama: the {@code ▁} normalizer or Metaspace, byte
 * fallback, fused unknowns, the Replace/ByteFallback/Fuse/Strip decoder). Built by
 * {@link HfTokenizerJson} or {@link Tokenizers#fromVocabulary}; immutable and thread-safe.
 */
public final class HfBpeTokenizer implements Tokenizer {

    /** Everything the loader worked out of the file, in the form the tokenizer runs it. */
    record Spec(String[] pieces, boolean[] special, List<AddedTokens.Token> added, HfNormalizer normalizer,
            HfPreTokenizer preTokenizer, BpeModel model, List<HfDecoder> decoders, boolean byteLevelDecoder,
            int bosId, int eosId, int padId, int unkId, Described described) {}

    /** How {@link #vocabulary()} names this tokenizer, or why it cannot (then {@code kind} is null). */
    record Described(String kind, String preTokenizer, List<String> merges, String whyNot) {}

    private final String[] pieces;
    private final boolean[] special;
    private final byte[][] decodeBytes; // byte-level decoder: the bytes of each token
    private final int[] byteOfToken; // LLaMA-style: the byte of a <0xNN> token, or -1
    private final Map<String, Integer> pieceIds;
    private final List<AddedTokens.Token> added;
    private final AddedTokens rawAdded;
    private final AddedTokens normalizedAdded;
    private final HfNormalizer normalizer;
    private final HfPreTokenizer preTokenizer;
    private final BpeModel model;
    private final List<HfDecoder> decoders;
    private final boolean byteLevelDecoder;
    private final boolean groupsBytes; // the chain has ByteFallback: runs of byte tokens decode together
    private final int bosId;
    private final int eosId;
    private final int padId;
    private final int unkId;
    private final Described described;

    HfBpeTokenizer(Spec spec) {
        this.pieces = spec.pieces();
        this.special = spec.special();
        this.added = List.copyOf(spec.added());
        this.rawAdded = new AddedTokens(added.stream().filter(t -> !t.normalized()).toList());
        // A normalized added token is looked for in normalized text, spelled as the normalizer spells it.
        this.normalizedAdded = new AddedTokens(added.stream().filter(AddedTokens.Token::normalized)
                .map(t -> spec.normalizer() == null ? t : new AddedTokens.Token(t.id(), spec.normalizer().normalize(t.content()),
                        t.special(), t.singleWord(), t.lstrip(), t.rstrip(), true)).toList());
        this.normalizer = spec.normalizer();
        this.preTokenizer = spec.preTokenizer();
        this.model = spec.model();
        this.decoders = List.copyOf(spec.decoders());
        this.byteLevelDecoder = spec.byteLevelDecoder();
        this.groupsBytes = decoders.stream().anyMatch(d -> d instanceof HfDecoder.ByteFallback);
        this.bosId = spec.bosId();
        this.eosId = spec.eosId();
        this.padId = spec.padId();
        this.unkId = spec.unkId();
        this.described = spec.described();
        this.pieceIds = new HashMap<>(pieces.length * 2);
        for (int i = 0; i < pieces.length; i++) if (pieces[i] != null) pieceIds.putIfAbsent(pieces[i], i);
        for (AddedTokens.Token t : added) pieceIds.put(t.content(), t.id());
        // The reference spells a normalized added token as the normalizer spells it (also when decoding).
        if (spec.normalizer() != null) {
            for (AddedTokens.Token t : added) {
                if (!t.normalized()) continue;
                pieces[t.id()] = spec.normalizer().normalize(t.content());
                pieceIds.put(pieces[t.id()], t.id());
            }
        }
        this.decodeBytes = new byte[pieces.length][];
        this.byteOfToken = new int[pieces.length];
        for (int i = 0; i < pieces.length; i++) {
            String p = pieces[i];
            if (p == null) continue;
            if (byteLevelDecoder) {
                byte[] b = ByteLevelBpeLoader.unspell(p);
                decodeBytes[i] = b != null ? b : p.getBytes(StandardCharsets.UTF_8);
            }
            byteOfToken[i] = HfDecoder.byteOf(p);
        }
    }

    @Override
    public int[] encode(String text, SpecialTokens specials) {
        var out = new IntList(text.length() / 3 + 4);
        boolean skipSpecial = specials == SpecialTokens.LITERAL;
        if (!rawAdded.matchesAnything(skipSpecial)) {
            encodeSegment(text, true, skipSpecial, out);
        } else {
            rawAdded.split(text, skipSpecial, new AddedTokens.Sink() {
                @Override
                public void text(int from, int to) {
                    encodeSegment(text.substring(from, to), from == 0, skipSpecial, out);
                }

                @Override
                public void token(int id) {
                    out.add(id);
                }
            });
        }
        return out.toArray();
    }

    /** Normalizes a piece of text between raw added tokens, then cuts out normalized added tokens. */
    private void encodeSegment(String segment, boolean atStart, boolean skipSpecial, IntList out) {
        String s = normalizer == null ? segment : normalizer.normalize(segment);
        if (!normalizedAdded.matchesAnything(skipSpecial)) {
            encodeWords(s, atStart, out);
            return;
        }
        normalizedAdded.split(s, skipSpecial, new AddedTokens.Sink() {
            @Override
            public void text(int from, int to) {
                encodeWords(s.substring(from, to), atStart && from == 0, out);
            }

            @Override
            public void token(int id) {
                out.add(id);
            }
        });
    }

    private void encodeWords(String s, boolean atStart, IntList out) {
        if (s.isEmpty()) return;
        preTokenizer.split(s, atStart, (str, from, to, first) -> {
            byte[] utf8 = utf8(str, from, to);
            model.encode(utf8, 0, utf8.length, out);
        });
    }

    private static byte[] utf8(String s, int from, int to) {
        byte[] b = new byte[to - from];
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (c >= 0x80) return Utf8.encode(s.substring(from, to));
            b[i - from] = (byte) c;
        }
        return b;
    }

    @Override
    public String decode(int[] ids) {
        if (byteLevelDecoder) {
            var bytes = new SentencePieceNormalizer.ByteBuilder(ids.length * 4);
            for (int id : ids) {
                checkId(id);
                if (!special[id]) bytes.addAll(decodeBytes[id]);
            }
            return new String(bytes.toArray(), StandardCharsets.UTF_8);
        }
        var tokens = new ArrayList<String>(ids.length);
        for (int id : ids) {
            checkId(id);
            if (!special[id]) tokens.add(pieces[id]);
        }
        return runChain(tokens, true);
    }

    private String runChain(List<String> tokens, boolean first) {
        List<String> t = tokens;
        for (HfDecoder d : decoders) t = d.apply(t, first);
        return String.join("", t);
    }

    private void checkId(int id) {
        if (id < 0 || id >= pieces.length || pieces[id] == null) {
            throw new IllegalArgumentException("token id " + id + " is not in the vocabulary (size " + pieces.length + ")");
        }
    }

    @Override
    public IncrementalDecoder incrementalDecoder() {
        return byteLevelDecoder ? new ByteStream() : new ChainStream();
    }

    /** Byte-level text: the bytes of the tokens, decoded as UTF-8 as they become complete characters. */
    private final class ByteStream implements IncrementalDecoder {
        private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPLACE).onUnmappableCharacter(CodingErrorAction.REPLACE);
        private ByteBuffer pending = ByteBuffer.allocate(64);

        @Override
        public String push(int id) {
            checkId(id);
            if (special[id]) return "";
            byte[] b = decodeBytes[id];
            if (pending.remaining() < b.length) {
                var bigger = ByteBuffer.allocate(Math.max(pending.capacity() * 2, pending.position() + b.length));
                pending.flip();
                bigger.put(pending);
                pending = bigger;
            }
            pending.put(b);
            return drain(false);
        }

        @Override
        public String flush() {
            String s = drain(true);
            decoder.reset();
            return s;
        }

        private String drain(boolean end) {
            pending.flip();
            var out = CharBuffer.allocate(pending.remaining() * 2 + 2);
            decoder.decode(pending, out, end);
            if (end) decoder.flush(out);
            pending.compact();
            return out.flip().toString();
        }
    }

    /**
     * Any other chain: tokens are decoded in small windows behind one already-decoded chunk of
     * context, and the text the window adds is handed out. The chain's steps only look at the
     * first token or first character of the text and at runs of byte tokens, so a window that
     * starts after a complete chunk decodes exactly as the whole text would.
     */
    private final class ChainStream implements IncrementalDecoder {
        private final List<String> context = new ArrayList<>();
        private final List<String> pending = new ArrayList<>();

        @Override
        public String push(int id) {
            checkId(id);
            if (special[id]) return "";
            pending.add(pieces[id]);
            if (groupsBytes && byteOfToken[id] >= 0) return ""; // a run of byte tokens may go on
            return emit();
        }

        @Override
        public String flush() {
            return pending.isEmpty() ? "" : emit();
        }

        private String emit() {
            String before = context.isEmpty() ? "" : runChain(context, true);
            var window = new ArrayList<String>(context.size() + pending.size());
            window.addAll(context);
            window.addAll(pending);
            String all = runChain(window, true);
            context.clear();
            context.addAll(pending);
            pending.clear();
            return all.substring(Math.min(before.length(), all.length()));
        }
    }

    @Override
    public Vocabulary vocabulary() {
        if (described.kind() == null) throw new TokenizerException(described.whyNot());
        int[] types = new int[pieces.length];
        Arrays.fill(types, 1);
        float[] scores = null;
        if (described.kind().equals("llama")) {
            // SentencePiece-style BPE merges the pair whose result scores highest, so a merged token
            // scores -(rank of the first merge making it); single characters 0; unreachable tokens lowest.
            List<String> merges = described.merges();
            scores = new float[pieces.length];
            Arrays.fill(scores, -(merges.size() + 1));
            for (int m = merges.size() - 1; m >= 0; m--) {
                Integer id = pieceIds.get(merges.get(m).replace(" ", ""));
                if (id != null) scores[id] = -m;
            }
            for (int i = 0; i < pieces.length; i++) {
                if (byteOfToken[i] >= 0) types[i] = 6;
                else if (pieces[i] != null && pieces[i].codePointCount(0, pieces[i].length()) == 1) scores[i] = 0;
            }
        }
        for (AddedTokens.Token t : added) types[t.id()] = t.special() ? 3 : 4;
        if (described.kind().equals("llama") && unkId >= 0) types[unkId] = 2;
        return new Vocabulary(described.kind(), described.preTokenizer(), Arrays.asList(pieces), scores, types,
                described.kind().equals("gpt2") ? described.merges() : null, bosId, eosId, padId, unkId,
                bosId >= 0 && described.kind().equals("llama"), false);
    }

    @Override
    public int vocabSize() {
        return pieces.length;
    }

    @Override
    public int bosId() {
        return bosId;
    }

    @Override
    public int eosId() {
        return eosId;
    }

    @Override
    public int padId() {
        return padId;
    }

    @Override
    public String idToPiece(int id) {
        checkId(id);
        return pieces[id];
    }

    @Override
    public int pieceToId(String piece) {
        Integer id = pieceIds.get(piece);
        return id == null ? -1 : id;
    }
}
