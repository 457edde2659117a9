/**
 * Every compression codec Kafka supports, so that a record batch compressed by any producer (the
 * Java client, librdkafka) is read like any other. kafkajs decodes gzip itself and leaves the
 * others to extensions (`CompressionCodecs[type] = () => ({ compress, decompress })`); without
 * them one compressed batch fails every fetch from its broker. These are pure JavaScript:
 * - snappy (snappyjs): the Java client frames Snappy blocks the Xerial way (a magic header, then
 *   each block after its length); librdkafka may send a bare block; both are read, Xerial written;
 * - lz4 (lz4js): the LZ4 frame format, as Kafka writes it since record format v1;
 * - zstd (fzstd): read only; the bridge itself produces uncompressed records.
 * A batch decompresses to at most MAX_DECOMPRESSED_BYTES: a batch past it is refused, not read
 * into memory without end.
 */
import { CompressionCodecs, CompressionTypes } from 'kafkajs';
import { Decompress } from 'fzstd';
import * as lz4 from 'lz4js';
import * as snappy from 'snappyjs';

/** The most one record batch may decompress to (64 MiB, 64 times Kafka's default largest batch). */
export const MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024;

/** What kafkajs asks of a codec: its encoder's bytes compressed, and a batch's records decompressed. */
interface Codec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

const bufferOf = (bytes: Uint8Array): Buffer => (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));

const tooBig = (codec: string, bytes: number): Error =>
  new Error(`a ${codec} record batch decompresses to ${bytes.toLocaleString('en-US')} bytes or more, beyond the ${MAX_DECOMPRESSED_BYTES.toLocaleString('en-US')} allowed`);

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
      return bufferOf(snappy.uncompress(buffer, MAX_DECOMPRESSED_BYTES));
    }
    const blocks: Buffer[] = [];
    let total = 0;
    for (let at = XERIAL_HEADER_BYTES; at < buffer.length; ) {
      if (at + 4 > buffer.length) throw new Error('a snappy record batch ends inside a block length');
      const length = buffer.readUInt32BE(at);
      at += 4;
      if (at + length > buffer.length) throw new Error('a snappy record batch ends inside a block');
      const block = bufferOf(snappy.uncompress(buffer.subarray(at, at + length), MAX_DECOMPRESSED_BYTES - total));
      at += length;
      total += block.length;
      blocks.push(block);
    }
    return Buffer.concat(blocks, total);
  },
};

const lz4Codec: Codec = {
  compress: async ({ buffer }) => bufferOf(lz4.compress(buffer)),
  decompress: async (buffer) => {
    const bound = lz4.decompressBound(buffer);
    if (bound > MAX_DECOMPRESSED_BYTES) throw tooBig('lz4', bound);
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
      if (total > MAX_DECOMPRESSED_BYTES) throw tooBig('zstd', total);
      chunks.push(Buffer.from(chunk));
    });
    stream.push(buffer, true);
    return Buffer.concat(chunks, total);
  },
};

let registered = false;

/** Teach kafkajs snappy, lz4 and zstd, once per process (the codecs are kafkajs's globals). */
export const registerCompressionCodecs = (): void => {
  if (registered) return;
  registered = true;
  CompressionCodecs[CompressionTypes.Snappy] = () => snappyCodec;
  CompressionCodecs[CompressionTypes.LZ4] = () => lz4Codec;
  CompressionCodecs[CompressionTypes.ZSTD] = () => zstdCodec;
};

export const compressionCodecs = { snappy: snappyCodec, lz4: lz4Codec, zstd: zstdCodec } as const;
