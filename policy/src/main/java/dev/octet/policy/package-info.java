/**
 * The octet policy file: which parameters of a training job get 8-bit block-wise quantized
 * optimizer state, and with which settings.
 *
 * <p>A policy is a YAML file read by {@link dev.octet.policy.PolicyParser} into an immutable
 * {@link dev.octet.policy.Policy}; {@link dev.octet.policy.Policy#decide} then answers, per
 * parameter, with a {@link dev.octet.policy.Decision}. The format is also described by the JSON
 * Schema {@code dev/octet/policy/octet-policy.schema.json} shipped in this module, for editors.
 *
 * <p>Keys are camelCase and follow the vocabulary of bitsandbytes, whose 8-bit optimizers octet
 * reproduces:
 * <ul>
 *   <li>{@code bits} is bitsandbytes' {@code optim_bits} (8 or 32);</li>
 *   <li>{@code blockSize} is its {@code block_size} / {@code blocksize} (elements per quantization
 *       block);</li>
 *   <li>{@code minQuantizedSize} is its {@code min_8bit_size} (tensors with fewer elements keep
 *       32-bit state).</li>
 * </ul>
 *
 * <pre>{@code
 * version: 1                 # optional, only 1
 * defaults:                  # optional
 *   bits: 8                  # 8 or 32
 *   blockSize: 256           # power of two, 64..4096
 *   minQuantizedSize: 4096   # integer >= 0
 * rules:                     # first matching rule decides
 *   - match: {name: "dense*_W", layerType: "DenseLayer", optimizer: "Adam",
 *             minElements: 1000, maxElements: 1000000}
 *     bits: 32
 *     optimizer: {learningRate: 1.0e-4}
 * stableEmbeddings: ["embed*"]
 * onError: warn              # warn | fail
 * report: log                # log | stderr | stdout | file:<path>
 * }</pre>
 */
package dev.octet.policy;
