/**
 * The codecs kafkajs lacks: what each reads and writes, the framings producers use, and the
 * bound on what a batch may decompress to. (compression.int.spec.ts reads the batches of Apache
 * Kafka's own Java producer in each codec.)
 */
import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
import { CompressionCodecs, CompressionTypes } from 'kafkajs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_DECOMPRESSED_BYTES, onDecompressionFailure, registerCompressionCodecs } from '../../adapters/kafka/compressionCodecs.js';
import { UNREADABLE_BATCH_HEADER } from '../../adapters/kafka/unreadableBatch.js';

// kafkajs's own encoding and decoding of a record batch, as a fetch answer carries it.
const require = createRequire(import.meta.url);
type Encoded = { buffer: Buffer };
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as {
  RecordBatch: (batch: { compression: CompressionTypes; firstOffset: string; lastOffsetDelta: number; records: Encoded[] }) => Promise<Encoded>;
};
const Record = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (record: { offsetDelta: number; key: Buffer; value: Buffer }) => Encoded;
const Decoder = require('kafkajs/src/protocol/decoder.js') as new (buffer: Buffer) => unknown;
const decodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder.js') as (decoder: unknown) => Promise<{ records: { offset: string; key: Buffer | null; value: Buffer | null; headers: Record<string, Buffer> }[] }>;

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

  it('answers a batch it cannot decompress with stand-ins, one per offset, the first carrying the compressed records', async () => {
    registerCompressionCodecs({ maxDecompressedBytes: 1024 * 1024 });
    const records = [0, 1, 2].map((offsetDelta) => Record({ offsetDelta, key: Buffer.from('call-1'), value: Buffer.alloc(600_000, 'a') }));
    const batch = await RecordBatch({ compression: CompressionTypes.LZ4, firstOffset: '100', lastOffsetDelta: 2, records });
    expect(batch.buffer.length).toBeLessThan(20_000);
    const told: string[] = [];
    const stop = onDecompressionFailure((error) => told.push(error.message));
    try {
      const decoded = await decodeBatch(new Decoder(batch.buffer));
      expect(decoded.records.map((record) => record.offset)).toEqual(['100', '101', '102']);
      for (const record of decoded.records) expect(record.headers[UNREADABLE_BATCH_HEADER]?.toString()).toMatch(/^a lz4 record batch cannot be decompressed: .*1,048,576 allowed/);
      expect(decoded.records[0]!.value!.readUInt32LE(0)).toBe(0x184d2204);
      expect(decoded.records.slice(1).map((record) => record.value)).toEqual([null, null]);
      expect(told).toEqual([]);
      // Allowed to, it reads the records themselves.
      registerCompressionCodecs({ maxDecompressedBytes: 4 * 1024 * 1024 });
      expect((await decodeBatch(new Decoder(batch.buffer))).records.map((record) => record.value!.length)).toEqual([600_000, 600_000, 600_000]);
    } finally {
      stop();
    }
  });

  it('says what is wrong with a batch that is not what its codec says', async () => {
    await expect(codec(CompressionTypes.LZ4).decompress(Buffer.from('not lz4 at all'))).rejects.toThrow(/a lz4 record batch cannot be decompressed: invalid magic number/);
  });
});
