package io.cohx.models.generate;

/**
 * One generated token as the device reported it: its id, its log-probability under the model
 * (before any sampling filter), and the row's most likely tokens at that step with their
 * log-probabilities, most likely first (at least one: the greedy choice).
 */
public record Token(int id, float logprob, int[] top, float[] topLogprobs) {}
