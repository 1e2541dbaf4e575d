package io.cohx.models.tokenizer;

import com.google.protobuf.InvalidProtocolBufferException;
import io.cohx.models.tokenizer.proto.SentencePieceModelProtos.ModelProto;
import io.cohx.models.tokenizer.proto.SentencePieceModelProtos.ModelProto.SentencePiece.Type;
import io.cohx.models.tokenizer.proto.SentencePieceModelProtos.TrainerSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A SentencePiece {@code tokenizer.model} (LLaMA, Mistral, T5-style unigram models) in pure Java,
 * token-for-token equal to the reference C++ library: the same normalization, BPE merge order or
 * unigram Viterbi path, byte fallback, user-defined and control pieces, and the same decoding
 * (leading dummy space dropped, bytes that do not form UTF-8 shown as U+FFFD). Load with
 * {@link #load(Path)} or {@link Tokenizers#load(Path)}; the result is immutable and thread-safe.
 */
public final class SentencePieceTokenizer implements Tokenizer {

    private static final String SPACE = "\u2581";

    private final String[] pieces;
    private final Type[] types;
    private final SentencePieceNormalizer normalizer;
    private final SentencePieceModel model;
    private final Map<String, Integer> pieceIds;
    private final int[] byteIds; // byte value → id of <0xNN>, or -1
    private final boolean byteFallback;
    private final int unkId;
    private final String unkSurface;
    private final int bosId;
    private final int eosId;
    private final int padId;
    private final boolean stripLeadingSpace;
    private final boolean removeExtraWhitespaces;
    private final float[] scores;
    private final boolean llamaLike; // BPE, identity map, dummy prefix, no space removal: what GGUF's "llama" kind describes
    private final AddedTokens controlPieces; // CONTROL pieces matched in text with SpecialTokens.PARSE

    private SentencePieceTokenizer(ModelProto proto, String file) {
        int n = proto.getPiecesCount();
        if (n == 0) throw new TokenizerException(file + ": the model has no pieces; it is not a SentencePiece model");
        TrainerSpec trainer = proto.getTrainerSpec();
        pieces = new String[n];
        types = new Type[n];
        pieceIds = new HashMap<>(n * 2);
        byteIds = new int[256];
        java.util.Arrays.fill(byteIds, -1);
        var normalKeys = new ArrayList<byte[]>();
        var normalIds = new ArrayList<Integer>();
        var userDefined = new ArrayList<byte[]>();
        scores = new float[n];
        int unk = -1;
        for (int i = 0; i < n; i++) {
            var sp = proto.getPieces(i);
            String piece = sp.getPiece();
            if (piece.isEmpty()) throw new TokenizerException(file + ": piece " + i + " is empty; the model file is damaged");
            pieces[i] = piece;
            types[i] = sp.getType();
            scores[i] = sp.getScore();
            if (pieceIds.putIfAbsent(piece, i) != null) {
                throw new TokenizerException(file + ": piece " + i + " '" + piece + "' is already id " + pieceIds.get(piece)
                        + "; the model file is damaged");
            }
            switch (sp.getType()) {
                case NORMAL, USER_DEFINED, UNUSED -> {
                    normalKeys.add(piece.getBytes(StandardCharsets.UTF_8));
                    normalIds.add(i);
                    if (sp.getType() == Type.USER_DEFINED) userDefined.add(piece.getBytes(StandardCharsets.UTF_8));
                }
                case UNKNOWN -> {
                    if (unk >= 0) throw new TokenizerException(file + ": pieces " + unk + " and " + i + " are both UNKNOWN");
                    unk = i;
                }
                case BYTE -> {
                    if (!trainer.getByteFallback()) {
                        throw new TokenizerException(file + ": piece " + i + " '" + piece
                                + "' is a BYTE piece but trainer_spec.byte_fallback is false; the model file is inconsistent");
                    }
                    int b = parseBytePiece(piece);
                    if (b < 0) throw new TokenizerException(file + ": BYTE piece " + i + " '" + piece + "' is not of the form <0xNN>");
                    byteIds[b] = i;
                }
                case CONTROL -> { }
            }
        }
        if (unk < 0) throw new TokenizerException(file + ": the model has no UNKNOWN piece (<unk>); the model file is damaged");
        unkId = unk;
        byteFallback = trainer.getByteFallback();
        if (byteFallback) {
            for (int b = 0; b < 256; b++) {
                if (byteIds[b] < 0) {
                    throw new TokenizerException(file + ": trainer_spec.byte_fallback is set but piece <0x"
                            + String.format("%02X", b) + "> is missing; the model file is damaged");
                }
            }
        }
        unkSurface = trainer.getUnkSurface();
        bosId = specialId(trainer.getBosPiece(), Type.CONTROL);
        eosId = specialId(trainer.getEosPiece(), Type.CONTROL);
        padId = specialId(trainer.getPadPiece(), Type.CONTROL);

        if (trainer.getTreatWhitespaceAsSuffix()) {
            throw new TokenizerException(file + ": trainer_spec.treat_whitespace_as_suffix is set; cohx supports only "
                    + "prefix-space models (LLaMA, Mistral, T5 style)");
        }
        if (proto.hasDenormalizerSpec() && !proto.getDenormalizerSpec().getPrecompiledCharsmap().isEmpty()) {
            throw new TokenizerException(file + ": the model has a denormalizer_spec rule set, which cohx does not implement");
        }
        var ns = proto.getNormalizerSpec();
        if (ns.getPrecompiledCharsmap().isEmpty() && ns.hasName() && !ns.getName().equals("identity")
                && !ns.getName().isEmpty()) {
            throw new TokenizerException(file + ": normalizer_spec.name is '" + ns.getName()
                    + "' but precompiled_charsmap is empty; the rule set must be compiled into the model");
        }
        removeExtraWhitespaces = ns.getRemoveExtraWhitespaces();
        llamaLike = trainer.getModelType() == TrainerSpec.ModelType.BPE && ns.getPrecompiledCharsmap().isEmpty()
                && ns.getAddDummyPrefix() && !ns.getRemoveExtraWhitespaces() && ns.getEscapeWhitespaces();
        var control = new ArrayList<AddedTokens.Token>();
        for (int i = 0; i < n; i++) {
            if (types[i] == Type.CONTROL) control.add(AddedTokens.Token.special(i, pieces[i]));
        }
        controlPieces = new AddedTokens(control);
        stripLeadingSpace = ns.getAddDummyPrefix() || ns.getRemoveExtraWhitespaces();
        var matcher = userDefined.isEmpty() ? null
                : new SentencePieceNormalizer.UserDefinedMatcher(userDefined.toArray(byte[][]::new));
        normalizer = new SentencePieceNormalizer(ns.getAddDummyPrefix(), ns.getRemoveExtraWhitespaces(),
                ns.getEscapeWhitespaces(), ns.getPrecompiledCharsmap().toByteArray(), matcher, file);
        var normalMap = new ByteSliceMap(normalKeys.toArray(byte[][]::new),
                normalIds.stream().mapToInt(Integer::intValue).toArray());
        model = switch (trainer.getModelType()) {
            case BPE -> new SentencePieceBpe(normalMap, pieces, scores, types, matcher);
            case UNIGRAM -> new SentencePieceUnigram(normalKeys, normalIds, scores, types, unkId);
            default -> throw new TokenizerException(file + ": trainer_spec.model_type is " + trainer.getModelType()
                    + "; cohx supports BPE and UNIGRAM SentencePiece models");
        };
    }

    /** Reads a SentencePiece {@code .model} file. */
    public static SentencePieceTokenizer load(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new TokenizerException(file + ": no such file; pass the path of a SentencePiece tokenizer.model", e);
        } catch (IOException e) {
            throw new TokenizerException(file + ": cannot read: " + e.getMessage(), e);
        }
        return fromBytes(bytes, file.toString());
    }

    /** Parses the bytes of a {@code .model} file; {@code name} is used in error messages. */
    public static SentencePieceTokenizer fromBytes(byte[] bytes, String name) {
        if (bytes.length == 0) throw new TokenizerException(name + ": the file is empty; expected a SentencePiece model");
        if (bytes[0] == '{' || bytes[0] == '[') {
            throw new TokenizerException(name + ": the file is JSON, not a SentencePiece model (protobuf); "
                    + "load a tokenizer.json through Tokenizers.load");
        }
        ModelProto proto;
        try {
            proto = ModelProto.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            throw new TokenizerException(name + ": not a valid SentencePiece model (protobuf parse failed: "
                    + e.getMessage() + "); the file is truncated or of another type", e);
        }
        if (!proto.hasTrainerSpec() || !proto.hasNormalizerSpec()) {
            throw new TokenizerException(name + ": parsed as protobuf but has no "
                    + (proto.hasTrainerSpec() ? "normalizer_spec" : "trainer_spec")
                    + "; it is not a SentencePiece model or it is truncated");
        }
        return new SentencePieceTokenizer(proto, name);
    }

    private int specialId(String piece, Type wanted) {
        Integer id = pieceIds.get(piece);
        return id != null && types[id] == wanted ? id : -1;
    }

    private static int parseBytePiece(String piece) {
        if (piece.length() != 6 || !piece.startsWith("<0x") || piece.charAt(5) != '>') return -1;
        try {
            return Integer.parseInt(piece.substring(3, 5), 16);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /**
     * With {@link SpecialTokens#PARSE}, text spelling a CONTROL piece ({@code <s>}, {@code </s>},
     * Mistral's {@code [INST]}) becomes its id and the text between is encoded piece by piece, each
     * with its own dummy prefix, as llama.cpp and Hugging Face's LLaMA tokenizers do.
     */
    @Override
    public int[] encode(String text, SpecialTokens specials) {
        var out = new IntList(text.length() / 3 + 4);
        if (specials == SpecialTokens.LITERAL) {
            encodeText(text, out);
        } else {
            controlPieces.split(text, false, new AddedTokens.Sink() {
                @Override
                public void text(int from, int to) {
                    encodeText(text.substring(from, to), out);
                }

                @Override
                public void token(int id) {
                    out.add(id);
                }
            });
        }
        return out.toArray();
    }

    private void encodeText(String text, IntList out) {
        byte[] normalized = normalizer.normalize(Utf8.encode(text));
        if (normalized.length == 0) return;
        model.encode(normalized, (from, to, id) -> emit(normalized, from, to, id, out));
    }

    private void emit(byte[] s, int from, int to, int id, IntList out) {
        if (id < 0) id = unkId;
        if (id == unkId) {
            if (byteFallback) {
                for (int i = from; i < to; i++) out.add(byteIds[s[i] & 0xFF]);
                return;
            }
            // Runs of unknown pieces become one <unk>, as the reference does.
            if (out.size() > 0 && out.last() == unkId) return;
        }
        out.add(id);
    }

    @Override
    public String decode(int[] ids) {
        var state = new DecodeState();
        var text = new StringBuilder();
        for (int id : ids) state.push(id, text);
        state.flushBytes(text);
        return text.toString();
    }

    /** SentencePiece's decoding state: pending byte pieces and whether the leading space is still to be dropped. */
    private final class DecodeState {
        private byte[] bytes = new byte[16];
        private int nBytes;
        private boolean bosWsSeen;
        private boolean textNonEmpty;

        void push(int id, StringBuilder out) {
            checkId(id);
            if (types[id] == Type.BYTE) {
                if (nBytes == bytes.length) bytes = java.util.Arrays.copyOf(bytes, nBytes * 2);
                bytes[nBytes++] = (byte) Integer.parseInt(pieces[id].substring(3, 5), 16);
                textNonEmpty = true;
                return;
            }
            flushBytes(out);
            boolean isBosWs = !(bosWsSeen || textNonEmpty);
            String surface;
            boolean hasBosWs = false;
            switch (types[id]) {
                case CONTROL -> surface = "";
                case UNKNOWN -> surface = unkSurface;
                default -> {
                    String piece = pieces[id];
                    if (isBosWs && stripLeadingSpace && piece.startsWith(SPACE)) {
                        piece = piece.substring(1);
                        hasBosWs = !removeExtraWhitespaces;
                    }
                    surface = piece.replace(SPACE, " ");
                }
            }
            bosWsSeen = hasBosWs;
            if (!surface.isEmpty()) textNonEmpty = true;
            out.append(surface);
        }

        /** Emits the complete characters of the pending bytes; keeps a trailing incomplete one unless {@code all}. */
        void emitBytes(StringBuilder out, boolean all) {
            int pos = 0;
            while (pos < nBytes) {
                int n = Utf8.validCharLength(bytes, pos, nBytes);
                if (n < 0) {
                    if (!all && Utf8.isIncompletePrefix(bytes, pos, nBytes)) break;
                    out.append('\uFFFD');
                    pos++;
                } else {
                    out.append(new String(bytes, pos, n, StandardCharsets.UTF_8));
                    pos += n;
                }
            }
            System.arraycopy(bytes, pos, bytes, 0, nBytes - pos);
            nBytes -= pos;
        }

        void flushBytes(StringBuilder out) {
            emitBytes(out, true);
        }
    }

    private void checkId(int id) {
        if (id < 0 || id >= pieces.length) {
            throw new IllegalArgumentException("token id " + id + " is outside the vocabulary [0, " + pieces.length + ")");
        }
    }

    @Override
    public IncrementalDecoder incrementalDecoder() {
        var state = new DecodeState();
        return new IncrementalDecoder() {
            @Override
            public String push(int id) {
                var out = new StringBuilder();
                state.push(id, out);
                state.emitBytes(out, false);
                return out.toString();
            }

            @Override
            public String flush() {
                var out = new StringBuilder();
                state.flushBytes(out);
                return out.toString();
            }
        };
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

    /** Kind "llama" (tokens, scores, types); only for BPE models normalized as LLaMA's are, which is all GGUF can say. */
    @Override
    public Vocabulary vocabulary() {
        if (!llamaLike) {
            throw new TokenizerException("this SentencePiece model is not LLaMA-style (BPE, identity normalization, "
                    + "dummy prefix, spaces kept); a GGUF 'llama' vocabulary cannot describe it");
        }
        int[] typeIds = new int[types.length];
        for (int i = 0; i < types.length; i++) typeIds[i] = types[i].getNumber();
        return new Vocabulary("llama", "default", List.of(pieces), scores.clone(), typeIds, null, bosId, eosId, padId,
                unkId, true, false);
    }

    /**
     * A LLaMA-style BPE model from a {@link Vocabulary} of kind "llama" (GGUF's tokens, scores and
     * types): identity normalization, a dummy-prefix space, spaces as U+2581, byte fallback when
     * the vocabulary has byte pieces. {@code source} names the vocabulary in errors.
     */
    static SentencePieceTokenizer fromVocabulary(Vocabulary v, String source) {
        List<String> tokens = v.tokens();
        if (tokens == null || tokens.isEmpty()) throw new TokenizerException(source + ": the vocabulary has no tokens");
        if (v.scores() != null && v.scores().length != tokens.size()) {
            throw new TokenizerException(source + ": " + v.scores().length + " scores for " + tokens.size() + " tokens");
        }
        if (v.tokenTypes() != null && v.tokenTypes().length != tokens.size()) {
            throw new TokenizerException(source + ": " + v.tokenTypes().length + " token types for " + tokens.size() + " tokens");
        }
        var proto = ModelProto.newBuilder();
        boolean bytes = false;
        int unk = v.unkId();
        for (int i = 0; i < tokens.size(); i++) {
            int t = v.tokenTypes() == null ? 1 : v.tokenTypes()[i];
            Type type = Type.forNumber(t);
            if (type == null) {
                throw new TokenizerException(source + ": token " + i + " '" + tokens.get(i) + "' has type " + t
                        + "; types are 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte");
            }
            if (i == unk) type = Type.UNKNOWN;
            else if (type == Type.UNKNOWN) unk = unk < 0 ? i : unk;
            bytes |= type == Type.BYTE;
            proto.addPieces(ModelProto.SentencePiece.newBuilder().setPiece(tokens.get(i))
                    .setScore(v.scores() == null ? 0f : v.scores()[i]).setType(type));
        }
        if (unk < 0) throw new TokenizerException(source + ": the 'llama' vocabulary has no unknown token (type 2 or unkId)");
        var trainer = TrainerSpec.newBuilder().setModelType(TrainerSpec.ModelType.BPE).setByteFallback(bytes)
                .setUnkId(unk).setUnkPiece(tokens.get(unk))
                .setBosId(v.bosId()).setBosPiece(v.bosId() >= 0 ? tokens.get(v.bosId()) : "")
                .setEosId(v.eosId()).setEosPiece(v.eosId() >= 0 ? tokens.get(v.eosId()) : "")
                .setPadId(v.padId()).setPadPiece(v.padId() >= 0 ? tokens.get(v.padId()) : "");
        proto.setTrainerSpec(trainer).setNormalizerSpec(
                io.cohx.models.tokenizer.proto.SentencePieceModelProtos.NormalizerSpec.newBuilder().setName("identity")
                        .setAddDummyPrefix(true).setRemoveExtraWhitespaces(false).setEscapeWhitespaces(true));
        var tok = new SentencePieceTokenizer(proto.build(), source);
        return tok;
    }

    /** Id of the unknown piece. */
    public int unkId() {
        return unkId;
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

    /** The pieces of {@code text} as strings, as the reference's {@code encode(out_type=str)}. */
    public List<String> encodeAsPieces(String text) {
        var out = new ArrayList<String>();
        for (int id : encode(text)) out.add(pieces[id]);
        return out;
    }
}
