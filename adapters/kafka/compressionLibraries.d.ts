/** The little of lz4js and snappyjs the codecs use (neither package ships its types). */
declare module 'lz4js' {
  /** An LZ4 frame's content, or throws. `maxSize` is the room to decompress into (found from the frame when not given). */
  export function decompress(src: Uint8Array, maxSize?: number): Uint8Array;
  /** An LZ4 frame of `src`. */
  export function compress(src: Uint8Array, maxSize?: number): Uint8Array;
}

declare module 'snappyjs' {
  /** A raw Snappy block's content; throws when it is longer than `maxLength`. */
  export function uncompress<T extends Uint8Array>(compressed: T, maxLength?: number): T;
  export function compress<T extends Uint8Array>(uncompressed: T): T;
}
