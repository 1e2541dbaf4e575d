package io.cohx.models.tokenizer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Reads the JSON files of tokenizers (tokenizer.json, vocab.json, tokenizer_config.json) with errors that name the file. */
final class Json {

    private static final ObjectMapper JSON = new ObjectMapper();

    private Json() {}

    static JsonNode read(Path file) {
        byte[] data;
        try {
            data = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new TokenizerException(file + ": no such file", e);
        } catch (IOException e) {
            throw new TokenizerException(file + ": cannot read: " + e.getMessage(), e);
        }
        return parse(data, file);
    }

    static JsonNode parse(byte[] data, Path file) {
        if (data.length == 0) throw new TokenizerException(file + ": the file is empty; expected JSON");
        int first = firstNonSpace(data);
        if (first == data.length || (data[first] != '{' && data[first] != '[')) {
            throw new TokenizerException(file + ": not JSON (byte " + first + " is 0x"
                    + (first < data.length ? Integer.toHexString(data[first] & 0xFF) : "<end>")
                    + ", expected '{'); a SentencePiece tokenizer.model is a binary protobuf file, not JSON");
        }
        try {
            return JSON.readTree(data);
        } catch (JsonProcessingException e) {
            var loc = e.getLocation();
            throw new TokenizerException(file + ": invalid JSON" + (loc != null ? " at line " + loc.getLineNr()
                    + ", column " + loc.getColumnNr() : "") + ": " + e.getOriginalMessage()
                    + " (is the file truncated?)", e);
        } catch (IOException e) {
            throw new TokenizerException(file + ": cannot parse: " + e.getMessage(), e);
        }
    }

    /** Index of the first byte that is not a UTF-8 BOM or JSON whitespace. */
    static int firstNonSpace(byte[] data) {
        int first = 0;
        if (data.length >= 3 && (data[0] & 0xFF) == 0xEF && (data[1] & 0xFF) == 0xBB && (data[2] & 0xFF) == 0xBF) first = 3;
        while (first < data.length && (data[first] == ' ' || data[first] == '\n' || data[first] == '\r' || data[first] == '\t')) {
            first++;
        }
        return first;
    }
}
