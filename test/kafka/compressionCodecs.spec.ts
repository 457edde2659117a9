/**
 * The codecs kafkajs lacks: what each reads and writes, the framings producers use, and the
 * bound on what a batch may decompress to. (compression.int.spec.ts reads the batches of Apache
 * Kafka's own Java producer in each codec.)
 */
import { gzipSync } from 'node:zlib';
import { CompressionCodecs, CompressionTypes } from 'kafkajs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_DECOMPRESSED_BYTES, onDecompressionFailure, registerCompressionCodecs } from '../../adapters/kafka/compressionCodecs.js';

interface Codec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}
const codec = (type: CompressionTypes): Codec => (CompressionCodecs as Record<number, () => Codec>)[type]!();
/** The Snappy block inside the Xerial framing of a short input (its one block, after the 16-byte header and the block's length). */
const bareSnappy = async (input: Buffer): Promise<Buffer> => (await codec(CompressionTypes.Snappy).compress({ buffer: input })).subarray(20);

const records = Buffer.from(JSON.stringify(Array.from({ length: 500 }, (_, n) => ({ type: 'park.requested', callId: `call-${n}`, tenantId: 'contoso' }))));
/** `{"type":"park.requested","callId":"call-1"}`, by the zstd command line tool. */
const zstdFrame = Buffer.from('28b52ffd04585901007b2274797065223a227061726b2e726571756573746564222c2263616c6c4964223a2263616c6c2d31227d42aaf8c0', 'hex');
/** 3,000,000 zero bytes, by the zstd command line tool: 111 bytes. */
const zstdZeros = Buffer.from(
  '28b52ffd04585400001000000100fbff39c00202001000020010000200100002001000020010000200100002001000020010000200100002001000020010000200100002001000020010000200100002001000020010000200100002001000020010000200100003360e0003c9afd6',
  'hex',
);

describe('compression codecs', () => {
  beforeAll(() => registerCompressionCodecs());
  afterEach(() => registerCompressionCodecs({ maxDecompressedBytes: DEFAULT_MAX_DECOMPRESSED_BYTES }));

  it('reads back what gzip, snappy and lz4 write', async () => {
    for (const type of [CompressionTypes.GZIP, CompressionTypes.Snappy, CompressionTypes.LZ4]) {
      const compressed = await codec(type).compress({ buffer: records });
      expect(compressed.length).toBeLessThan(records.length / 4);
      expect(Buffer.compare(await codec(type).decompress(compressed), records)).toBe(0);
    }
  });

  it('writes snappy in the Xerial framing the Java client reads, and reads a bare Snappy block as librdkafka may send', async () => {
    const framed = await codec(CompressionTypes.Snappy).compress({ buffer: records });
    expect(framed.subarray(0, 8)).toEqual(Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]));
    const short = records.subarray(0, 10_000);
    expect(Buffer.compare(await codec(CompressionTypes.Snappy).decompress(await bareSnappy(short)), short)).toBe(0);
  });

  it('writes lz4 in the LZ4 frame format', async () => {
    expect((await codec(CompressionTypes.LZ4).compress({ buffer: records })).readUInt32LE(0)).toBe(0x184d2204);
  });

  it('reads zstd, and refuses to write it', async () => {
    expect((await codec(CompressionTypes.ZSTD).decompress(zstdFrame)).toString()).toBe('{"type":"park.requested","callId":"call-1"}');
    await expect(codec(CompressionTypes.ZSTD).compress({ buffer: records })).rejects.toThrow(/zstd compression is not available/);
  });

  it('refuses a batch that would decompress beyond the bound, in every codec, and tells the listeners', async () => {
    registerCompressionCodecs({ maxDecompressedBytes: 1024 * 1024 });
    const zeros = Buffer.alloc(3_000_000);
    const bombs: [CompressionTypes, Buffer][] = [
      [CompressionTypes.GZIP, gzipSync(zeros)],
      [CompressionTypes.Snappy, await codec(CompressionTypes.Snappy).compress({ buffer: zeros })],
      // A bare Snappy block that says it holds 3,000,000 bytes (its length, a varint, comes first).
      [CompressionTypes.Snappy, Buffer.from([0xc0, 0x8d, 0xb7, 0x01, 0x00])],
      [CompressionTypes.LZ4, await codec(CompressionTypes.LZ4).compress({ buffer: zeros })],
      [CompressionTypes.ZSTD, zstdZeros],
    ];
    const told: string[] = [];
    const stop = onDecompressionFailure((error) => told.push(error.message));
    try {
      for (const [type, bomb] of bombs) await expect(codec(type).decompress(bomb)).rejects.toThrow(/cannot be decompressed: .*(too big|1,048,576)/);
    } finally {
      stop();
    }
    expect(told.map((message) => message.split(' ')[1])).toEqual(['gzip', 'snappy', 'snappy', 'lz4', 'zstd']);
    // Within the bound, the same batches are read.
    registerCompressionCodecs({ maxDecompressedBytes: 4 * 1024 * 1024 });
    for (const [type, bomb] of bombs.filter(([, bomb]) => bomb.length > 5)) expect((await codec(type).decompress(bomb)).length).toBe(zeros.length);
  });

  it('says what is wrong with a batch that is not what its codec says', async () => {
    await expect(codec(CompressionTypes.LZ4).decompress(Buffer.from('not lz4 at all'))).rejects.toThrow(/a lz4 record batch cannot be decompressed: invalid magic number/);
  });
});
