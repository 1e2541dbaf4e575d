package io.cohx.models.tokenizer;

/** The segmentation step of a SentencePiece model: normalized bytes in, pieces out. */
sealed interface SentencePieceModel permits SentencePieceBpe, SentencePieceUnigram {

    /** Receives the pieces of a segmentation, left to right. */
    @FunctionalInterface
    interface PieceSink {
        /** {@code s[from..to)} is piece {@code id}, or an unknown piece when {@code id} is -1. */
        void piece(int from, int to, int id);
    }

    void encode(byte[] normalized, PieceSink sink);
}
