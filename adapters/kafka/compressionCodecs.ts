/**
 * Every compression codec Kafka supports, so that a record batch compressed by any producer (the
 * Java client, librdkafka) is read like any other. kafkajs decodes gzip itself and leaves the
 * others to extensions (`CompressionCodecs[type] = () => ({ compress, decompress })`); without
 * them one compressed batch fails every fetch from its broker. These are pure JavaScript:
 * - gzip (node:zlib), as kafkajs's own but bounded;
 * - snappy (snappyjs): the Java client frames Snappy blocks the Xerial way (a magic header, then
 *   each block after its length); librdkafka may send a bare block; both are read, Xerial written;
 * - lz4 (lz4js): the LZ4 frame format, as Kafka writes it since record format v1;
 * - zstd (fzstd): read only; the bridge itself produces uncompressed records.
 * A batch decompresses to at most `maxDecompressedBytes` (KAFKA_MAX_DECOMPRESSED_BYTES, 64 MiB):
 * a batch past it is refused, not read into memory without end. A batch that cannot be
 * decompressed would fail its whole fetch (kafkajs decodes a broker's answer at once), so it is
 * answered with stand-in records the consumer dead-letters (unreadableBatch.ts); when even that
 * is not possible, the fetch fails and the listeners (the signaling consumer) are told, to say it
 * in `/readyz`.
 */
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import kafkajs from 'kafkajs';
import { Decompress } from 'fzstd';
import * as lz4 from 'lz4js';
import * as snappy from 'snappyjs';
import { standInRecords } from './unreadableBatch.js';

/** The most one record batch may decompress to, by default (64 MiB, 64 times Kafka's default largest batch). */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024;

/** Process-wide, as the codecs are: the latest one given to registerCompressionCodecs. */
let maxDecompressedBytes = DEFAULT_MAX_DECOMPRESSED_BYTES;

/** What kafkajs asks of a codec: its encoder's bytes compressed, and a batch's records decompressed. */
interface Codec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

// kafkajs is CommonJS, and Node does not find these two among its named exports.
const { CompressionCodecs, CompressionTypes } = kafkajs;

const gzip = promisify(zlib.gzip);
const unzip = promisify(zlib.unzip);

const bufferOf = (bytes: Uint8Array): Buffer => (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));

const tooBig = (codec: string, bytes: number): Error =>
  new Error(`a ${codec} record batch decompresses to ${bytes.toLocaleString('en-US')} bytes or more, beyond the ${maxDecompressedBytes.toLocaleString('en-US')} allowed (KAFKA_MAX_DECOMPRESSED_BYTES)`);

/** gzip as kafkajs has it, but bounded. */
const gzipCodec: Codec = {
  compress: async ({ buffer }) => gzip(buffer),
  decompress: async (buffer) => {
    try {
      return await unzip(buffer, { maxOutputLength: maxDecompressedBytes });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw tooBig('gzip', maxDecompressedBytes + 1);
      throw error;
    }
  },
};

/** Xerial's framing of Snappy blocks (snappy-java's SnappyOutputStream), which the Java client writes. */
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_BYTES = 16;
const XERIAL_BLOCK_BYTES = 32 * 1024;

const snappyCodec: Codec = {
  compress: async ({ buffer }) => {
    const parts: Buffer[] = [XERIAL_MAGIC, Buffer.from([0, 0, 0, 1, 0, 0, 0, 1])];
    for (let at = 0; at < buffer.length; at += XERIAL_BLOCK_BYTES) {
      const block = snappy.compress(buffer.subarray(at, at + XERIAL_BLOCK_BYTES));
      const length = Buffer.alloc(4);
      length.writeUInt32BE(block.length);
      parts.push(length, block);
    }
    return Buffer.concat(parts);
  },
  decompress: async (buffer) => {
    if (buffer.length < XERIAL_HEADER_BYTES || !buffer.subarray(0, XERIAL_MAGIC.length).equals(XERIAL_MAGIC)) {
      return bufferOf(snappy.uncompress(buffer, maxDecompressedBytes));
    }
    const blocks: Buffer[] = [];
    let total = 0;
    for (let at = XERIAL_HEADER_BYTES; at < buffer.length; ) {
      if (at + 4 > buffer.length) throw new Error('a snappy record batch ends inside a block length');
      const length = buffer.readUInt32BE(at);
      at += 4;
      if (at + length > buffer.length) throw new Error('a snappy record batch ends inside a block');
      const block = bufferOf(snappy.uncompress(buffer.subarray(at, at + length), maxDecompressedBytes - total));
      at += length;
      total += block.length;
      blocks.push(block);
    }
    return Buffer.concat(blocks, total);
  },
};

/** An LZ4 block decompresses to at most 255 times its size (a match's length grows by 255 a byte). */
const LZ4_MAX_RATIO = 255;
const LZ4_BLOCK_MAX_BYTES: Readonly<Record<number, number>> = { 4: 64 * 1024, 5: 256 * 1024, 6: 1024 * 1024, 7: 4 * 1024 * 1024 };

/**
 * The most an LZ4 frame decompresses to, from its block sizes: an uncompressed block's own size,
 * a compressed one's at most the frame's largest block and 255 times its size.
 */
const lz4FrameBound = (frame: Buffer): number => {
  if (frame.length < 7 || frame.readUInt32LE(0) !== 0x184d2204) throw new Error('invalid magic number');
  const flags = frame[4]!;
  const blockMax = LZ4_BLOCK_MAX_BYTES[(frame[5]! >> 4) & 0x07];
  if (blockMax === undefined) throw new Error('invalid block size');
  const blockChecksum = (flags & 0x10) !== 0;
  let at = 7 + ((flags & 0x08) !== 0 ? 8 : 0);
  let bound = 0;
  for (;;) {
    if (at + 4 > frame.length) throw new Error('the frame ends inside a block size');
    const word = frame.readUInt32LE(at);
    at += 4;
    if (word === 0) return bound;
    const size = word & 0x7fffffff;
    bound += (word & 0x80000000) !== 0 ? size : Math.min(blockMax, size * LZ4_MAX_RATIO);
    at += size + (blockChecksum ? 4 : 0);
  }
};

const lz4Codec: Codec = {
  compress: async ({ buffer }) => bufferOf(lz4.compress(buffer)),
  decompress: async (buffer) => {
    const bound = lz4FrameBound(buffer);
    if (bound > maxDecompressedBytes) throw tooBig('lz4', bound);
    return bufferOf(lz4.decompress(buffer, bound));
  },
};

const zstdCodec: Codec = {
  compress: async () => {
    throw new Error('zstd compression is not available here: produce uncompressed, or with gzip, snappy or lz4');
  },
  decompress: async (buffer) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const stream = new Decompress((chunk) => {
      total += chunk.length;
      if (total > maxDecompressedBytes) throw tooBig('zstd', total);
      chunks.push(Buffer.from(chunk));
    });
    stream.push(buffer, true);
    return Buffer.concat(chunks, total);
  },
};

export type DecompressionFailure = (error: Error) => void;
const listeners = new Set<DecompressionFailure>();

/** Be told of every record batch that could not be decompressed; answers the way to stop. */
export const onDecompressionFailure = (listener: DecompressionFailure): (() => void) => {
  listeners.add(listener);
  return () => void listeners.delete(listener);
};

const reporting = (name: string, codec: Codec): Codec => ({
  compress: (encoder) => codec.compress(encoder),
  decompress: async (buffer) => {
    try {
      return await codec.decompress(buffer);
    } catch (cause) {
      const error = new Error(`a ${name} record batch cannot be decompressed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
      const standIns = standInRecords(buffer, error.message);
      if (standIns !== undefined) return standIns;
      for (const listener of listeners) listener(error);
      throw error;
    }
  },
});

let registered = false;

/** Teach kafkajs snappy, lz4 and zstd (the codecs are kafkajs's globals, so this is for the whole process). */
export const registerCompressionCodecs = (limits: { readonly maxDecompressedBytes?: number } = {}): void => {
  if (limits.maxDecompressedBytes !== undefined) maxDecompressedBytes = limits.maxDecompressedBytes;
  if (registered) return;
  registered = true;
  CompressionCodecs[CompressionTypes.GZIP] = () => reporting('gzip', gzipCodec);
  CompressionCodecs[CompressionTypes.Snappy] = () => reporting('snappy', snappyCodec);
  CompressionCodecs[CompressionTypes.LZ4] = () => reporting('lz4', lz4Codec);
  CompressionCodecs[CompressionTypes.ZSTD] = () => reporting('zstd', zstdCodec);
};
